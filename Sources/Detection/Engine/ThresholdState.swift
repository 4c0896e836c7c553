/// One match kept in rule state: its event time and where it came from.
public struct MatchReference: Sendable, Hashable, Comparable, Codable {
    /// Event time, nanoseconds since the epoch.
    public var time: Int64
    public var origin: EventOrigin

    public init(time: Int64, origin: EventOrigin) {
        self.time = time
        self.origin = origin
    }

    /// By time, then origin: a total order, so capped lists do not depend on arrival order.
    public static func < (a: MatchReference, b: MatchReference) -> Bool {
        a.time != b.time ? a.time < b.time : a.origin < b.origin
    }
}

extension Array where Element == MatchReference {
    /// Inserts `match` in order into this sorted list, which keeps only its
    /// `cap` earliest (a match after the last of a full list is not kept).
    mutating func insert(sorted match: MatchReference, cap: Int) {
        // In time order (the common case): it goes last, if there is room. The last
        // element's time decides without copying it (a copy retains its origin's text).
        if let end = indices.last, match.time > self[end].time || !(match < self[end]) {
            if count < cap { append(match) }
            return
        }
        // After the last element not greater than `match` (binary search: lists run to the cap).
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if match < self[mid] { high = mid } else { low = mid + 1 }
        }
        insert(match, at: low)
        if count > cap { removeLast() }
    }
}

/// A fired threshold / dedup window of one group key: opened by its earliest
/// match, `period` long (shorter only when it had to end where an already
/// fired window starts; see the README, "Where arrival order still matters").
public struct ThresholdWindow: Sendable, Hashable, Codable {
    /// Event time of the earliest match (nanoseconds since the epoch).
    public var start: Int64
    /// Exclusive end.
    public var end: Int64
    /// Matches in the window.
    public var count: Int
    /// Event time of the latest match.
    public var lastSeen: Int64
    /// The earliest matches, at most ``EngineSettings/maxEventReferences``, sorted.
    public var matches: [MatchReference] {
        get { refs.array }
        set { refs = MatchList(newValue) }
    }
    /// The matches as kept (one inline).
    var refs: MatchList
    /// The handle of the compact alert's diff in its store's ``DiffArena`` (0: none).
    /// Declared here, after `refs`, it takes their padding: the window stays 72 bytes.
    var diff: UInt32 = 0
    /// The alert raised for this window, once it fired (the summary repeats it).
    /// Inside the engine a fired window keeps it compact (``FiredAlert``, without
    /// the group key it is rendered over): there this is nil, and the store
    /// renders it with the key (``alert(key:diffs:)``); the engine's exported and
    /// changed entries carry it whole (``ThresholdStore/exported(key:_:)``).
    public var alert: Alert? {
        get {
            if case .full(let alert)? = raised { return alert.value }
            return nil
        }
        set { raised = newValue.map { .full(Shared($0)) } }
    }
    /// Kept beside the window: an unfired window stays small; the engine's
    /// own windows keep the compact form (``FiredAlert``), restored ones the alert.
    var raised: Raised?

    enum Raised: Sendable {
        case full(Shared<Alert>)
        case compact(FiredAlert)
    }

    /// The count of the alert raised for this window (read without rendering it).
    var alertCount: Int? {
        switch raised {
        case nil: return nil
        case .full(let alert)?: return alert.value.count
        case .compact(let fired)?: return fired.content.count
        }
    }

    /// The alert raised for this window of group key `key`, in either form (a
    /// compact one's diff, if any, read from its store's `diffs`).
    func alert(key: String, diffs: DiffArena) -> Alert? {
        switch raised {
        case nil: return nil
        case .full(let alert)?: return alert.value
        case .compact(let fired)?:
            guard diff != 0 else { return fired.alert(key: key, start: start, matches: refs) }
            return diffs.read(diff) { fired.alert(key: key, start: start, matches: refs, diff: $0) }
        }
    }

    public init(start: Int64, end: Int64, count: Int, lastSeen: Int64, matches: [MatchReference],
                alert: Alert? = nil) {
        self.start = start
        self.end = end
        self.count = count
        self.lastSeen = lastSeen
        refs = MatchList(matches)
        raised = alert.map { .full(Shared($0)) }
    }

    // Equal and encoded by value, with the alert only in its full form: the engine's own
    // windows hold the compact form and leave the engine through `exported(key:)`, which
    // renders it (the keys are those of the stored properties before the compact form).
    private enum CodingKeys: String, CodingKey {
        case start, end, count, lastSeen, matches, raised
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(start: try c.decode(Int64.self, forKey: .start), end: try c.decode(Int64.self, forKey: .end),
                  count: try c.decode(Int.self, forKey: .count), lastSeen: try c.decode(Int64.self, forKey: .lastSeen),
                  matches: try c.decode([MatchReference].self, forKey: .matches),
                  alert: try c.decodeIfPresent(Alert.self, forKey: .raised))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        try c.encode(count, forKey: .count)
        try c.encode(lastSeen, forKey: .lastSeen)
        try c.encode(matches, forKey: .matches)
        try c.encodeIfPresent(alert, forKey: .raised)
    }

    public static func == (a: ThresholdWindow, b: ThresholdWindow) -> Bool {
        a.start == b.start && a.end == b.end && a.count == b.count && a.lastSeen == b.lastSeen
            && a.matches == b.matches && a.alert == b.alert
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(start)
        hasher.combine(end)
        hasher.combine(count)
        hasher.combine(lastSeen)
        hasher.combine(matches)
        hasher.combine(alert)
    }
}

/// The state of one group key of a threshold or dedup rule. A plain value:
/// the runtime can write it to a changelog and restore it
/// (``DetectionEngine/exportState()``).
///
/// Matches not yet in a fired window are kept individually (`pending`, sorted;
/// fewer than the threshold per window): the unfired windows are not stored
/// but derived from them — chained from the earliest match, each `period`
/// long or ending where a fired window starts — so a late earlier match
/// re-anchors them exactly as event order would have.
public struct ThresholdKeyState: Sendable, Hashable, Codable {
    /// Matches outside every fired window, sorted by time then origin.
    public var pending: [MatchReference]
    /// Fired windows awaiting their end, sorted by start, not overlapping.
    public var fired: [ThresholdWindow] {
        get { windows.array }
        set { windows = FiredWindows(newValue) }
    }
    /// The fired windows as kept (one in a box of its own).
    var windows: FiredWindows

    public init(pending: [MatchReference] = [], fired: [ThresholdWindow] = []) {
        self.pending = pending
        windows = FiredWindows(fired)
    }

    /// The latest event time in the key (for eviction: oldest activity first).
    var lastActivity: Int64 { max(pending.last?.time ?? .min, windows.last?.lastSeen ?? .min) }

    var isEmpty: Bool { pending.isEmpty && windows.isEmpty }

    // Equal, hashed and encoded as the two lists (the keys of the stored properties before `windows`).
    private enum CodingKeys: String, CodingKey {
        case pending, fired
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(pending: try c.decode([MatchReference].self, forKey: .pending),
                  fired: try c.decode([ThresholdWindow].self, forKey: .fired))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pending, forKey: .pending)
        try c.encode(fired, forKey: .fired)
    }

    public static func == (a: ThresholdKeyState, b: ThresholdKeyState) -> Bool {
        a.pending == b.pending && a.windows.elementsEqual(b.windows)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(pending)
        hasher.combine(fired)
    }
}

/// An immutable value behind a reference (equal and hashed by value).
struct Shared<Value: Hashable & Sendable & Codable>: Hashable, Sendable, Codable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
    private let box: Box
    init(_ value: Value) { box = Box(value) }
    var value: Value { box.value }
    static func == (a: Shared, b: Shared) -> Bool { a.box === b.box || a.value == b.value }
    func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
    init(from decoder: any Decoder) throws { box = Box(try Value(from: decoder)) }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

