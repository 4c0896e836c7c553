import AuditEvents
import Enrichment

/// The alert of a fired threshold / dedup window, kept for its summary in a
/// few words instead of a whole rendered ``Alert``: the values the alert read
/// from the event beyond the group key (and what enrichment said of its source)
/// are shared through the store's interned ``AlertContent``s — a scan's keys
/// repeat them — and where a key's differ (its own user name, its location),
/// the window keeps the handle of those values in its store's ``DiffArena``
/// (``ContentDiff``). The id, title, dedup key, group key and output are
/// rendered again from those values and the key when the alert is needed
/// (summary, exported state). Rendering over the same values gives the same
/// text, so the alert is the one raised (checked at fire time in debug builds).
///
/// One reference (8 bytes: a fired window fits the 80-byte heap bin, its diff's
/// handle in the padding after its references). The
/// alert's count is the content's, its `last_seen` the time of the window's
/// count-th earliest match (the references are sorted; a window keeps
/// ``EngineSettings/maxEventReferences`` of them): only an alert counting more
/// matches than that keeps its `last_seen` (in a diff).
struct FiredAlert: Sendable {
    /// The content, or the template the window's diff applies to.
    let content: AlertContent

    /// The alert as raised for the window of `key` opened at `start` (its
    /// references: the window's earliest matches, as many as the alert counted),
    /// with the window's diff bytes when it has a diff.
    func alert(key: String, start: Int64, matches: MatchList, diff: UnsafeBufferPointer<UInt8>? = nil) -> Alert {
        let content = diff.map { ContentDiff.content($0, against: self.content) } ?? self.content
        let builder = content.builder
        var fields: [String: FieldValues] = [:]
        let groupValues = content.groupValues ?? GroupKey.values(of: key, fields: builder.groupBy.count) ?? []
        for (i, field) in builder.groupBy.enumerated() where i < groupValues.count { fields[field.name] = groupValues[i] }
        for (i, field) in builder.contentFields.enumerated() where i < content.values.count {
            fields[field.name] = content.values[i]
        }
        let context = DictionaryContext(fields)
        var source = content.source
        if let i = content.sourceIPField, i < groupValues.count, case .one(.string(let ip)) = groupValues[i] {
            source?.ip = ip
        }
        let count = content.count
        let lastSeen = count >= 1 && count <= matches.count ? matches[count - 1].time
            : diff.flatMap { ContentDiff.lastSeen(in: $0) } ?? start
        let refs = Array(matches.prefix(min(builder.maxReferences, count)))
        let windowStart = EventTime(nanos: start)
        return Alert(rule: builder.rule, key: key, windowStart: windowStart, over: context,
                     firstSeen: windowStart, lastSeen: EventTime(nanos: lastSeen), count: count,
                     groupKey: Alert.fields(builder.groupBy, in: context), source: source, statistics: [],
                     events: refs.map(\.origin), eventsOmitted: count - refs.count,
                     dataVersions: content.dataVersions)
    }
}

/// What a fired alert read of its event beyond the group key: the values of
/// the fields its title, dedup key and output name (``AlertBuilder/contentFields``),
/// the source (its Tor flag and location, and its address unless a group-by
/// value gives it), the data versions and the alert's count (the rule's
/// threshold). Immutable, compared by value, interned per store (a content
/// that differs from an interned one in a few values is kept as a ``ContentDiff``).
final class AlertContent: Hashable, Sendable {
    let builder: AlertBuilder
    let values: [FieldValues]
    /// The group-by values, only when the key text does not give them back
    /// (a value holding one of the key's separators).
    let groupValues: [FieldValues]?
    /// The alert's source, with an empty address when ``sourceIPField`` gives it.
    let source: Alert.Source?
    /// The group-by field whose (single) value is the source's address.
    let sourceIPField: Int?
    let dataVersions: Alert.DataVersions
    let count: Int

    init(builder: AlertBuilder, values: [FieldValues], groupValues: [FieldValues]?, source: Alert.Source?,
         sourceIPField: Int?, dataVersions: Alert.DataVersions, count: Int) {
        self.builder = builder
        self.values = values
        self.groupValues = groupValues
        self.source = source
        self.sourceIPField = sourceIPField
        self.dataVersions = dataVersions
        self.count = count
    }

    static func == (a: AlertContent, b: AlertContent) -> Bool {
        a === b || (a.builder === b.builder && a.values == b.values && a.groupValues == b.groupValues
            && a.source == b.source && a.sourceIPField == b.sourceIPField && a.dataVersions == b.dataVersions
            && a.count == b.count)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(values)
        hasher.combine(source)
        hasher.combine(count)
    }
}

extension AlertBuilder {
    /// The compact form of `alert`, raised for a window of `key` over `context`:
    /// its content found in, diffed against or added to `interned`, and the
    /// handle of its diff there (0: none); nil when the window should keep the alert whole.
    func fired(_ alert: Alert, key: String, context: AuditEventContext,
               interned: inout ContentInterner) -> (FiredAlert, diff: UInt32)? {
        let groupValues = groupBy.map { context.values(of: $0) }
        let keyGives = GroupKey.values(of: key, fields: groupBy.count) == groupValues
        var source = alert.source
        // The address is left out when a group-by value gives it (then contents are shared by keys).
        let sourceIPField = source.flatMap { source in groupValues.firstIndex(of: .one(.string(source.ip))) }
        if sourceIPField != nil { source?.ip = "" }
        let candidate = AlertContent(builder: self, values: contentFields.map { context.values(of: $0) },
                                     groupValues: keyGives ? nil : groupValues, source: source,
                                     sourceIPField: sourceIPField, dataVersions: alert.dataVersions,
                                     count: alert.count)
        // The count-th reference gives last_seen back while the window keeps that many.
        let lastSeen = alert.count >= 1 && alert.count <= maxReferences ? nil : alert.lastSeen.nanos
        return interned.intern(candidate, lastSeen: lastSeen).map { (FiredAlert(content: $0.0), $0.diff) }
    }
}
