import AuditEvents
import Enrichment

/// The state of one threshold or dedup rule (dedup alone is a threshold of 1):
/// windows per group key, the fired windows awaiting their summary, and the
/// key cap. See the README, "Engine", for the semantics.
struct ThresholdStore {
    let builder: AlertBuilder
    let threshold: Int
    /// The window length (the dedup period), nanoseconds.
    let period: Int64
    let maxKeys: Int
    var keys = GroupTable<ThresholdKeyState>()
    /// The group key of the match being added, as bytes (reused: no allocation per match).
    private var scratch: [UInt8] = []
    /// The contents of the alerts fired since the last sweep, shared by their windows
    /// (forgotten each sweep: windows keep theirs; later alerts share anew), and the
    /// fired windows' diffs (copied into a fresh arena at a sweep when half are dead).
    private(set) var interned = ContentInterner()
    /// Fired windows by end and key slot, so summaries go out as the horizon passes them.
    var pending = MinHeap()
    /// When unfired windows past the horizon are next swept away.
    var nextSweep: Int64 = .min
    /// The earliest horizon at which ``close(through:stats:into:)`` has work: a
    /// fired window's end or the next sweep.
    var nextDeadline: Int64 { min(pending.top?.end ?? .max, nextSweep) }
    /// Keys changed or removed since the last ``takeChanges(ruleID:into:)``; nil: not tracked.
    var changed: Set<String>?

    init(rule: Rule, groupBy: [FieldReference], settings: EngineSettings) {
        builder = AlertBuilder(rule: rule, groupBy: groupBy, maxReferences: settings.maxEventReferences)
        threshold = rule.threshold?.count ?? 1
        period = (rule.dedup?.period.seconds ?? 0).secondsAsNanos
        maxKeys = settings.maxKeysPerRule
    }

    /// Adds a match (not later than the allowed lateness) to the key of its
    /// group-by values in `context`; appends an alert when a window reaches the threshold.
    mutating func add(match: MatchReference, context: AuditEventContext,
                      enrichment: EventEnrichment, stats: inout RuleStatistics, into alerts: inout [Alert]) {
        scratch.removeAll(keepingCapacity: true)
        GroupKey.write(builder.groupBy, in: context, into: &scratch)
        let (slot, isNew) = keys.slot(for: scratch) { ThresholdKeyState() }
        let key = keys.slots[slot].key
        var fired: [Int64] = []
        let threshold = self.threshold
        var interned = ContentInterner()
        swap(&interned, &self.interned)
        defer { swap(&interned, &self.interned) }
        // The closure (called only when a window fires) captures the context, the
        // enrichment and the builder by address: captured by value, they were copied
        // (a retain and release of each reference inside) on every match.
        withUnsafePointer(to: builder) { builder in
            withUnsafePointer(to: context) { context in
                withUnsafePointer(to: enrichment) { enrichment in
                    Self.add(match, to: &keys.slots[slot].state!, threshold: threshold, period: period,
                             maxReferences: builder.pointee.maxReferences) { window in
                        fired.append(window.end)
                        let builder = builder.pointee
                        let alert = builder.alert(key: key, window: window, threshold: threshold,
                                                  context: context.pointee, enrichment: enrichment.pointee)
                        alerts.append(alert)
                        guard let compact = builder.fired(alert, key: key, context: context.pointee,
                                                          interned: &interned) else {
                            window.alert = alert  // no room for its diff: kept whole
                            return
                        }
                        window.raised = .compact(compact.0)
                        window.diff = compact.diff
                        assert(window.alert(key: key, diffs: interned.diffs) == alert,
                               "a fired alert rebuilt from its compact form differs from the one raised")
                    }
                }
            }
        }
        for end in fired { pending.push(end, slot: slot) }
        changed?.insert(key)
        stats.alerts += fired.count
        if isNew, keys.count > maxKeys { evict(stats: &stats, into: &alerts) }
    }

    /// Puts back an exported key (replacing what the store holds for it); its
    /// fired windows await their summaries again. Not a change: it comes from the saved state.
    mutating func restore(key: String, _ state: ThresholdKeyState) {
        keys[key] = state
        guard let slot = keys.find(key) else { return }
        for window in state.windows { pending.push(window.end, slot: slot) }
    }

    /// The window logic on one key (see the README): a match inside a fired
    /// window joins it; any other joins `pending`, whose windows are re-chained
    /// from the earliest match, and each that reaches the threshold fires.
    static func add(_ match: MatchReference, to state: inout ThresholdKeyState, threshold: Int, period: Int64,
                    maxReferences: Int, fire: (inout ThresholdWindow) -> Void) {
        let t = match.time
        if let i = state.windows.firstIndex(containing: t) {
            state.windows[i].join(match, cap: maxReferences)  // one access to the window
            return
        }
        state.pending.insert(sorted: match, cap: .max)
        var first = 0
        while first < state.pending.count {
            let start = state.pending[first].time
            let end = windowEnd(start, period: period, fired: state.windows)
            var stop = first + 1
            while stop < state.pending.count, state.pending[stop].time < end { stop += 1 }
            guard stop - first >= threshold else {
                first = stop
                continue
            }
            var window = ThresholdWindow(start: start, end: end, count: stop - first,
                                         lastSeen: state.pending[stop - 1].time,
                                         refs: MatchList(state.pending[first..<stop]))
            fire(&window)
            window.capReferences(maxReferences)
            state.pending.removeSubrange(first..<stop)
            if state.pending.isEmpty { state.pending = [] }  // free its buffer: a fired key may live a period
            let at = state.windows.firstIndex { $0.start > start } ?? state.windows.count
            state.windows.insert(window, at: at)
        }
    }

    /// Where an unfired window opened at `start` ends: a period later, or where
    /// the next fired window starts if that is sooner.
    static func windowEnd(_ start: Int64, period: Int64, fired: FiredWindows) -> Int64 {
        let end = start.plus(period)
        guard let next = fired.firstStart(after: start) else { return end }
        return min(end, next)
    }

    /// Drops the pending matches whose windows end at or before `horizon`.
    static func expire(_ state: inout ThresholdKeyState, through horizon: Int64, period: Int64) {
        var drop = 0
        while drop < state.pending.count {
            let end = windowEnd(state.pending[drop].time, period: period, fired: state.windows)
            guard end <= horizon else { break }
            let first = drop
            while drop < state.pending.count, state.pending[drop].time < end { drop += 1 }
            // A window that ends where it opens (at the end of time, where adding the period
            // saturates) holds nothing more: its match goes too.
            if drop == first { drop += 1 }
        }
        if drop > 0 { state.pending.removeFirst(drop) }
    }

    /// Ends the windows that end at or before `horizon`: summaries for fired
    /// ones; pending matches of unfired ones forgotten (swept once a period).
    mutating func close(through horizon: Int64, stats: inout RuleStatistics, into alerts: inout [Alert]) {
        while let top = pending.top, top.end <= horizon {
            pending.pop()
            // An entry whose key was evicted (or replaced) finds no window ending then.
            let slot = top.slot
            guard slot < keys.slots.count,
                  let i = keys.slots[slot].state?.windows.firstIndex(where: { $0.end == top.end }) else { continue }
            let key = keys.slots[slot].key
            if let summary = builder.summary(of: keys.slots[slot].state!.windows[i], key: key,
                                             diffs: interned.diffs) {
                alerts.append(summary)
                stats.summaries += 1
            }
            keys.slots[slot].state!.windows.remove(at: i)
            Self.expire(&keys.slots[slot].state!, through: horizon, period: period)
            if keys.slots[slot].state!.isEmpty { keys.remove(at: slot) }
            changed?.insert(key)
        }
        guard horizon >= nextSweep else { return }
        nextSweep = horizon.plus(max(period, 1))
        interned.forgetTemplates()
        for slot in keys.slots.indices {
            guard let first = keys.slots[slot].state?.pending.first,
                  Self.windowEnd(first.time, period: period, fired: keys.slots[slot].state!.windows) <= horizon
            else { continue }
            let key = keys.slots[slot].key
            Self.expire(&keys.slots[slot].state!, through: horizon, period: period)
            if keys.slots[slot].state!.isEmpty { keys.remove(at: slot) }
            changed?.insert(key)
        }
        compactDiffs()
    }

    /// Takes over the diffs of the same rule's store before a reload (its windows hold their handles).
    mutating func adoptDiffs(of previous: ThresholdStore) {
        interned.diffs = previous.interned.diffs
    }

    /// Copies the fired windows' diffs into a fresh arena when at least half of
    /// the bytes written are those of windows that ended (and more than a page):
    /// what keys that came and went wrote does not stay.
    mutating func compactDiffs() {
        let arena = interned.diffs
        guard arena.written > DiffArena.pageSize else { return }
        var live = 0
        for slot in keys.slots.indices {
            guard let windows = keys.slots[slot].state?.windows else { continue }
            for window in windows where window.diff != 0 { live += arena.size(of: window.diff) }
        }
        guard arena.written >= 2 * live else { return }
        var fresh = DiffArena()
        for slot in keys.slots.indices where keys.slots[slot].state != nil {
            for i in keys.slots[slot].state!.windows.indices where keys.slots[slot].state!.windows[i].diff != 0 {
                // Fits: the live bytes are at most half of what the old arena held.
                let moved = arena.copy(keys.slots[slot].state!.windows[i].diff, into: &fresh)
                keys.slots[slot].state!.windows[i].diff = moved!
            }
        }
        interned.diffs = fresh
    }

    /// Evicts the keys with the oldest activity until a tenth of the cap is free
    /// (at least one), emitting the summaries they owe.
    mutating func evict(stats: inout RuleStatistics, into alerts: inout [Alert]) {
        let order = keys.entries.map { (activity: $0.state.lastActivity, key: $0.key) }
            .sorted { $0.activity != $1.activity ? $0.activity < $1.activity : $0.key < $1.key }
        for victim in order.prefix(EngineSettings.evictionCount(of: keys.count, maxKeys: maxKeys)) {
            guard let slot = keys.find(victim.key), let state = keys.slots[slot].state else { continue }
            keys.remove(at: slot)
            changed?.insert(victim.key)
            for window in state.windows {
                if let summary = builder.summary(of: window, key: victim.key, diffs: interned.diffs) {
                    alerts.append(summary)
                    stats.summaries += 1
                }
            }
            stats.evictions += 1
        }
    }

    /// `state` of `key` as exported: fired windows with their alerts whole
    /// (the store keeps them compact, rendered over the key).
    func exported(key: String, _ state: ThresholdKeyState) -> ThresholdKeyState {
        var out = state
        for i in out.windows.indices where out.windows[i].alert == nil {
            out.windows[i].alert = out.windows[i].alert(key: key, diffs: interned.diffs)
            out.windows[i].diff = 0
        }
        return out
    }

    /// Ends every window (end of input).
    mutating func finish(stats: inout RuleStatistics, into alerts: inout [Alert]) {
        nextSweep = .min
        close(through: .max, stats: &stats, into: &alerts)
        nextSweep = .min
    }
}

/// A binary min-heap of (window end, key slot): 12 bytes an entry in two paged
/// arrays (no doubling's slack; an array of (end, slot) pairs was 16 bytes an
/// entry and ~30 % unused after its last doubling).
struct MinHeap {
    private var ends = PagedArray<Int64>()
    private var slots = PagedArray<Int32>()

    var top: (end: Int64, slot: Int)? { ends.isEmpty ? nil : (ends[0], Int(slots[0])) }

    mutating func push(_ end: Int64, slot: Int) {
        ends.append(end)
        slots.append(Int32(slot))
        var i = ends.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard ends[i] < ends[parent] else { break }
            swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() {
        guard !ends.isEmpty else { return }
        swapAt(0, ends.count - 1)
        ends.removeLast()
        slots.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < ends.count, ends[l] < ends[smallest] { smallest = l }
            if r < ends.count, ends[r] < ends[smallest] { smallest = r }
            if smallest == i { return }
            swapAt(i, smallest)
            i = smallest
        }
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        ends.swapAt(i, j)
        slots.swapAt(i, j)
    }
}
