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
    public var pending: [MatchReference] {
        _read {
            switch storage {
            case .pending(let pending): yield pending
            case .fired: yield []
            case .both(let both): yield both.pending
            }
        }
        _modify {
            var parts = take()
            defer { put(parts) }
            yield &parts.pending
        }
    }

    /// Fired windows awaiting their end, sorted by start, not overlapping.
    public var fired: [ThresholdWindow] {
        get { windows.array }
        set { windows = FiredWindows(newValue) }
    }

    /// The fired windows as kept (one in a box of its own).
    var windows: FiredWindows {
        _read {
            switch storage {
            case .pending: yield FiredWindows()
            case .fired(let windows): yield windows
            case .both(let both): yield both.windows
            }
        }
        _modify {
            var parts = take()
            defer { put(parts) }
            yield &parts.windows
        }
    }

    /// One word (a key table's slot is 32 bytes, not 40): most keys hold pending
    /// matches only or fired windows only; a key holding both keeps them in a box.
    private var storage: Storage

    private enum Storage: Sendable {
        /// No fired window (the pending matches may be none).
        case pending([MatchReference])
        /// Fired windows (at least one), no pending match.
        case fired(FiredWindows)
        /// Both, neither empty.
        case both(Both)
    }

    /// Mutable, but only through a state holding the only reference (``take()`` copies a shared one).
    private final class Both: @unchecked Sendable {
        var pending: [MatchReference]
        var windows: FiredWindows

        init(pending: [MatchReference], windows: FiredWindows) {
            self.pending = pending
            self.windows = windows
        }
    }

    /// The two lists taken out for a change, and the box they came from (to put them back into).
    private struct Parts {
        var pending: [MatchReference]
        var windows: FiredWindows
        var box: Both?
    }

    public init(pending: [MatchReference] = [], fired: [ThresholdWindow] = []) {
        storage = .pending([])
        put(Parts(pending: pending, windows: FiredWindows(fired), box: nil))
    }

    /// Both lists, changed in place: moved out of the word and back once, however often
    /// `body` reads or changes them.
    mutating func withParts<Result>(_ body: (inout [MatchReference], inout FiredWindows) -> Result) -> Result {
        var parts = take()
        defer { put(parts) }
        return body(&parts.pending, &parts.windows)
    }

    /// Moves the lists out (the state is left empty): a change of either then copies neither.
    private mutating func take() -> Parts {
        var taken = Storage.pending([])
        swap(&taken, &storage)
        switch consume taken {  // moved into the bindings, not copied
        case .pending(let pending):
            return Parts(pending: pending, windows: FiredWindows(), box: nil)
        case .fired(let windows):
            return Parts(pending: [], windows: windows, box: nil)
        case .both(var both):
            guard isKnownUniquelyReferenced(&both) else {
                return Parts(pending: both.pending, windows: both.windows, box: nil)
            }
            var parts = Parts(pending: [], windows: FiredWindows(), box: both)
            swap(&parts.pending, &both.pending)
            swap(&parts.windows, &both.windows)
            return parts
        }
    }

    /// Puts the lists back in the form their emptiness calls for (the box reused when it came with them).
    private mutating func put(_ parts: consuming Parts) {
        if parts.windows.isEmpty {
            storage = .pending(parts.pending)
        } else if parts.pending.isEmpty {
            storage = .fired(parts.windows)
        } else if let both = parts.box {
            swap(&parts.pending, &both.pending)
            swap(&parts.windows, &both.windows)
            storage = .both(both)
        } else {
            storage = .both(Both(pending: parts.pending, windows: parts.windows))
        }
    }

    /// The latest event time in the key (for eviction: oldest activity first).
    var lastActivity: Int64 { max(pending.last?.time ?? .min, windows.last?.lastSeen ?? .min) }

    var isEmpty: Bool {
        if case .pending(let pending) = storage { return pending.isEmpty }
        return false
    }

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

