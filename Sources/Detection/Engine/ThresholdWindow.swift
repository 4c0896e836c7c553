/// A fired threshold / dedup window of one group key: opened by its earliest
/// match, `period` long (shorter only when it had to end where an already
/// fired window starts; see the README, "Where arrival order still matters").
///
/// 56 bytes, so a key's only fired window and its box's header fit glibc's
/// 80-byte chunk: the count is kept in 4 bytes and `lastSeen` not at all while
/// the references hold every match (then it is the last one's time). A window
/// counting more matches than it keeps references (or past 2^32 - 1, or
/// restored with a `lastSeen` its references do not give) keeps both in an
/// ``Extra`` box beside its alert.
public struct ThresholdWindow: Sendable, Hashable, Codable {
    /// Event time of the earliest match (nanoseconds since the epoch).
    public var start: Int64
    /// Exclusive end.
    public var end: Int64
    /// The matches as kept (one inline), sorted: the earliest, at most
    /// ``EngineSettings/maxEventReferences``.
    private(set) var refs: MatchList
    /// The count, unless ``tail`` holds an ``Extra``.
    private var shortCount: UInt32
    /// The handle of the compact alert's diff in its store's ``DiffArena`` (0: none).
    var diff: UInt32 = 0
    /// The alert raised, or an ``Extra`` holding it with the count and `lastSeen`.
    private var tail: Tail?

    /// The alert raised for a window, once it fired (the summary repeats it): an
    /// unfired window stays small; the engine's own windows keep the compact form
    /// (``FiredAlert``), restored ones the alert.
    enum Raised: Sendable {
        case full(Shared<Alert>)
        case compact(FiredAlert)
    }

    private enum Tail: Sendable {
        case full(Shared<Alert>)
        case compact(FiredAlert)
        case extra(Extra)

        init(_ raised: Raised) {
            switch raised {
            case .full(let alert): self = .full(alert)
            case .compact(let fired): self = .compact(fired)
            }
        }
    }

    /// What a window keeps only when its references do not give it.
    private final class Extra: @unchecked Sendable {
        // Mutable, but only through a window that holds the only reference (it copies a shared one first).
        var count: Int
        var lastSeen: Int64
        var raised: Raised?

        init(count: Int, lastSeen: Int64, raised: Raised?) {
            self.count = count
            self.lastSeen = lastSeen
            self.raised = raised
        }
    }

    /// Matches in the window.
    public var count: Int {
        get {
            if case .extra(let extra)? = tail { return extra.count }
            return Int(shortCount)
        }
        set { set(count: newValue, lastSeen: lastSeen) }
    }

    /// Event time of the latest match.
    public var lastSeen: Int64 {
        get {
            if case .extra(let extra)? = tail { return extra.lastSeen }
            return refs.lastTime ?? start  // never empty without an Extra
        }
        set { set(count: count, lastSeen: newValue) }
    }

    /// The earliest matches, at most ``EngineSettings/maxEventReferences``, sorted.
    public var matches: [MatchReference] {
        get { refs.array }
        set {
            let (count, lastSeen) = (self.count, self.lastSeen)
            refs = MatchList(newValue)
            set(count: count, lastSeen: lastSeen)
        }
    }

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

    var raised: Raised? {
        get {
            switch tail {
            case nil: return nil
            case .full(let alert)?: return .full(alert)
            case .compact(let fired)?: return .compact(fired)
            case .extra(let extra)?: return extra.raised
            }
        }
        set {
            guard hasExtra else {
                tail = newValue.map(Tail.init)
                return
            }
            withExtra { $0.raised = newValue }
        }
    }

    public init(start: Int64, end: Int64, count: Int, lastSeen: Int64, matches: [MatchReference],
                alert: Alert? = nil) {
        self.init(start: start, end: end, count: count, lastSeen: lastSeen, refs: MatchList(matches))
        self.alert = alert
    }

    /// A window without an alert yet, its references as kept.
    init(start: Int64, end: Int64, count: Int, lastSeen: Int64, refs: MatchList) {
        self.start = start
        self.end = end
        self.refs = refs
        shortCount = 0
        set(count: count, lastSeen: lastSeen)
    }

    /// A match joins the window: counted, `lastSeen` moved, its reference kept
    /// among the earliest `cap`.
    mutating func join(_ match: MatchReference, cap: Int) {
        if !hasExtra, shortCount < UInt32.max, Int(shortCount) < cap {
            // Every match is in the references and this one joins them: they still give `lastSeen`.
            refs.insert(sorted: match, cap: cap)
            shortCount += 1
            return
        }
        let (count, lastSeen) = (self.count + 1, max(self.lastSeen, match.time))
        refs.insert(sorted: match, cap: cap)
        set(count: count, lastSeen: lastSeen)
    }

    /// Keeps the first `cap` references.
    mutating func capReferences(_ cap: Int) {
        guard refs.count > cap else { return }
        let (count, lastSeen) = (self.count, self.lastSeen)
        refs.cap(cap)
        set(count: count, lastSeen: lastSeen)
    }

    /// Stores `count` and `lastSeen` over the current references: in ``shortCount``
    /// when the references hold every match, else in an ``Extra``.
    private mutating func set(count: Int, lastSeen: Int64) {
        if count >= 1, count <= Int(UInt32.max), count == refs.count, lastSeen == refs.lastTime {
            shortCount = UInt32(count)
            if case .extra(let extra)? = tail { tail = extra.raised.map(Tail.init) }
        } else if hasExtra {
            shortCount = 0
            withExtra {
                $0.count = count
                $0.lastSeen = lastSeen
            }
        } else {
            shortCount = 0
            tail = .extra(Extra(count: count, lastSeen: lastSeen, raised: raised))
        }
    }

    private var hasExtra: Bool {
        if case .extra? = tail { return true }
        return false
    }

    /// Changes the ``Extra`` the window holds (copied first when another window shares it).
    private mutating func withExtra(_ change: (Extra) -> Void) {
        guard case .extra(var extra)? = tail else { return }
        tail = nil  // the only reference to the box, unless a copy of the window shares it
        if !isKnownUniquelyReferenced(&extra) {
            extra = Extra(count: extra.count, lastSeen: extra.lastSeen, raised: extra.raised)
        }
        change(extra)
        tail = .extra(extra)
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
