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
    ///
    /// Two words with `pending`, changed in place: the key table's slot stays 32 bytes
    /// because it keeps no hash (``GroupTable``). Session 8 kept both lists in one word
    /// (an enum, the two in a box when a key held both) and moved them out and back
    /// per match: most of session 8's −3.8 % on the five rules (ops/bench/rules.md, session 9).
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

