/// One statistic of one aggregate group, as accumulated so far.
public enum StatisticState: Sendable, Hashable, Codable {
    case count
    /// `values()` / `dc()`: distinct values as text (SPL treats them as
    /// strings), kept sorted as SPL sorts them (UTF-8 bytes), at most
    /// ``EngineSettings/maxStatisticValues``; `dropped` counts distinct
    /// values seen past the cap (repeats included: `dc` is then an upper
    /// bound). (A sorted array, not a set: a group holds few
    /// values, and an array of one costs a fraction of a set.)
    case distinct([String], dropped: Int)
    /// `min()` / `max()`: the extreme so far.
    case extreme(FieldValue?)
}

/// One group of an aggregate window: the group-by values and what is known of
/// its matches so far. A plain value (see ``DetectionEngine/exportState()``).
///
/// Stored compactly (a scan makes groups by the thousand): the statistics and
/// what enrichment said of the source sit in shared immutable boxes that the
/// store interns (groups of one scanner repeat them), the representative is
/// the first reference when it is one, and inside the engine the group-by
/// values are read back from the group's key (``AggregateStore``).
public struct AggregateGroupState: Sendable, Hashable, Codable {
    /// Values of the group-by fields, in rule order (empty inside the engine
    /// when the group's key gives them back).
    public var groupValues: [FieldValue] {
        get { extra?.value.groupValues ?? [] }
        set { updateExtra { $0.groupValues = newValue } }
    }
    public var count: Int
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// One per statistic of the rule, in rule order.
    public var statistics: [StatisticState] {
        get { statisticsBox.value }
        set { statisticsBox = Shared(newValue) }
    }
    /// The earliest matches (capped).
    public var matches: [MatchReference] {
        get { refs.array }
        set { refs = MatchList(newValue) }
    }
    /// The source IP and data versions of the earliest match (the alert's
    /// `source` and `data_versions`: a choice that does not depend on arrival order).
    public var source: Alert.Source? {
        get { source(groupValues: groupValues) }
        set { setSource(newValue, sourceIPField: nil, dataVersions: dataVersions) }
    }
    public var dataVersions: Alert.DataVersions? {
        get { described.value.dataVersions }
        set {
            described = Shared(Described(source: described.value.source, sourceIPField: described.value.sourceIPField,
                                         dataVersions: newValue))
        }
    }
    /// The match `source` came from.
    public var representative: MatchReference? {
        get { extra?.value.otherRepresentative ?? (hasRepresentative ? refs.first : nil) }
        set {
            hasRepresentative = newValue != nil
            let other = newValue == nil || newValue == refs.first ? nil : newValue
            if other != extra?.value.otherRepresentative { updateExtra { $0.otherRepresentative = other } }
        }
    }

    /// The source without its address, which group-by value is the address
    /// (if one is), and the data versions (interned by the store).
    struct Described: Sendable, Hashable, Codable {
        var source: Alert.Source?
        var sourceIPField: Int?
        var dataVersions: Alert.DataVersions?
    }

    /// What most groups do not need, boxed (nil when all of it is empty): the
    /// group-by values when the key does not give them, the source's address
    /// when no group-by value gives it, the representative when it is not the
    /// first reference (no references kept).
    struct Extra: Sendable, Hashable, Codable {
        var groupValues: [FieldValue] = []
        var sourceIP = ""
        var otherRepresentative: MatchReference?
    }

    var statisticsBox: Shared<[StatisticState]>
    var described: Shared<Described>
    private var extra: Shared<Extra>?
    /// The matches as kept (one inline).
    var refs: MatchList
    private var hasRepresentative = false

    /// The source, its address read from `groupValues` when a group-by value gives it.
    func source(groupValues: [FieldValue]) -> Alert.Source? {
        let described = described.value
        guard var source = described.source else { return nil }
        if let i = described.sourceIPField {
            if i < groupValues.count, case .string(let ip) = groupValues[i] { source.ip = ip }
        } else {
            source.ip = extra?.value.sourceIP ?? ""
        }
        return source
    }

    /// Sets the source (its address left to group-by value `sourceIPField` if
    /// given, else kept in ``extra``); `described` is the interned form of it.
    mutating func setSource(_ source: Alert.Source?, sourceIPField: Int?, dataVersions: Alert.DataVersions?,
                            intern: (Described) -> Shared<Described> = { Shared($0) }) {
        var bare = source
        bare?.ip = ""
        let ip = sourceIPField == nil ? source?.ip ?? "" : ""
        if ip != (extra?.value.sourceIP ?? "") { updateExtra { $0.sourceIP = ip } }
        described = intern(Described(source: bare, sourceIPField: sourceIPField, dataVersions: dataVersions))
    }

    private mutating func updateExtra(_ change: (inout Extra) -> Void) {
        var value = extra?.value ?? Extra()
        change(&value)
        extra = value == Extra() ? nil : Shared(value)
    }

    public init(groupValues: [FieldValue], count: Int, firstSeen: Int64, lastSeen: Int64,
                statistics: [StatisticState], matches: [MatchReference], source: Alert.Source?,
                dataVersions: Alert.DataVersions?, representative: MatchReference?) {
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        statisticsBox = Shared(statistics)
        refs = MatchList(matches)
        described = Shared(Described(source: nil, sourceIPField: nil, dataVersions: dataVersions))
        self.source = source
        self.groupValues = groupValues
        self.representative = representative
    }

    private enum CodingKeys: String, CodingKey {
        case groupValues, count, firstSeen, lastSeen, statistics, matches, source, dataVersions, representative
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(groupValues: try c.decode([FieldValue].self, forKey: .groupValues),
                  count: try c.decode(Int.self, forKey: .count),
                  firstSeen: try c.decode(Int64.self, forKey: .firstSeen),
                  lastSeen: try c.decode(Int64.self, forKey: .lastSeen),
                  statistics: try c.decode([StatisticState].self, forKey: .statistics),
                  matches: try c.decode([MatchReference].self, forKey: .matches),
                  source: try c.decodeIfPresent(Alert.Source.self, forKey: .source),
                  dataVersions: try c.decodeIfPresent(Alert.DataVersions.self, forKey: .dataVersions),
                  representative: try c.decodeIfPresent(MatchReference.self, forKey: .representative))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(groupValues, forKey: .groupValues)
        try c.encode(count, forKey: .count)
        try c.encode(firstSeen, forKey: .firstSeen)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(statistics, forKey: .statistics)
        try c.encode(matches, forKey: .matches)
        try c.encodeIfPresent(source, forKey: .source)
        try c.encodeIfPresent(dataVersions, forKey: .dataVersions)
        try c.encodeIfPresent(representative, forKey: .representative)
    }

    public static func == (a: AggregateGroupState, b: AggregateGroupState) -> Bool {
        a.groupValues == b.groupValues && a.count == b.count && a.firstSeen == b.firstSeen
            && a.lastSeen == b.lastSeen && a.statisticsBox == b.statisticsBox && a.matches == b.matches
            && a.source == b.source && a.dataVersions == b.dataVersions && a.representative == b.representative
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(groupValues)
        hasher.combine(count)
        hasher.combine(firstSeen)
        hasher.combine(lastSeen)
        hasher.combine(statisticsBox)
        hasher.combine(matches)
        hasher.combine(source)
        hasher.combine(dataVersions)
        hasher.combine(representative)
    }
}
