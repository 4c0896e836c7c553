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
    let maxReferences: Int
    var keys: [String: ThresholdKeyState] = [:]
    /// Fired windows by end, so summaries go out as the horizon passes them.
    var pending = MinHeap()
    /// When unfired windows past the horizon are next swept away.
    var nextSweep: Int64 = .min

    init(rule: Rule, groupBy: [FieldReference], settings: EngineSettings) {
        builder = AlertBuilder(rule: rule, groupBy: groupBy, maxReferences: settings.maxEventReferences)
        threshold = rule.threshold?.count ?? 1
        period = (rule.dedup?.period.seconds ?? 0).multipliedReportingOverflow(by: 1_000_000_000).partialValue
        maxKeys = settings.maxKeysPerRule
        maxReferences = settings.maxEventReferences
    }

    /// Adds a match at `time` (not later than the allowed lateness) for `key`;
    /// appends an alert when a window reaches the threshold.
    mutating func add(key: String, match: MatchReference, context: AuditEventContext,
                      enrichment: EventEnrichment, stats: inout RuleStatistics, into alerts: inout [Alert]) {
        let isNew = keys[key] == nil
        var fired: [Int64] = []
        let builder = self.builder
        let threshold = self.threshold
        Self.add(match, to: &keys[key, default: ThresholdKeyState()], threshold: threshold, period: period,
                 maxReferences: maxReferences) { window in
            fired.append(window.end)
            let alert = builder.alert(key: key, window: window, threshold: threshold, context: context,
                                      enrichment: enrichment)
            alerts.append(alert)
            return alert
        }
        for end in fired { pending.push(end, key) }
        stats.alerts += fired.count
        if isNew, keys.count > maxKeys { evict(stats: &stats, into: &alerts) }
    }

    /// The window logic on one key (see the README): join the window holding
    /// the match, else open one at it and re-chain the unfired windows after it
    /// up to the next fired one.
    static func add(_ match: MatchReference, to state: inout ThresholdKeyState, threshold: Int, period: Int64,
                    maxReferences: Int, fire: (ThresholdWindow) -> Alert) {
        let t = match.time
        if let i = state.windows.firstIndex(where: { $0.start <= t && t < $0.end }) {
            state.windows[i].count += 1
            state.windows[i].lastSeen = max(state.windows[i].lastSeen, t)
            if state.windows[i].fired {
                insert(match, into: &state.windows[i].matches, cap: maxReferences)
            } else {
                insert(match, into: &state.windows[i].matches, cap: .max)
                if state.windows[i].count >= threshold {
                    state.windows[i].alert = fire(state.windows[i])
                    cap(&state.windows[i].matches, maxReferences)
                }
            }
            return
        }
        let first = state.windows.firstIndex { $0.start > t } ?? state.windows.count
        var pendingMatches = [match]
        var next = first
        while next < state.windows.count, !state.windows[next].fired {
            pendingMatches += state.windows[next].matches
            next += 1
        }
        let limit = next < state.windows.count ? state.windows[next].start : .max
        pendingMatches.sort()
        var rebuilt: [ThresholdWindow] = []
        var index = 0
        while index < pendingMatches.count {
            let start = pendingMatches[index].time
            let end = min(start.plus(period), limit)
            var window = ThresholdWindow(start: start, end: end, count: 0, lastSeen: start, matches: [], alert: nil)
            while index < pendingMatches.count, pendingMatches[index].time < end {
                window.matches.append(pendingMatches[index])
                window.lastSeen = pendingMatches[index].time
                window.count += 1
                index += 1
            }
            if window.count >= threshold {
                window.alert = fire(window)
                cap(&window.matches, maxReferences)
            }
            rebuilt.append(window)
        }
        state.windows.replaceSubrange(first..<next, with: rebuilt)
    }

    private static func insert(_ match: MatchReference, into list: inout [MatchReference], cap: Int) {
        if list.count >= cap, let last = list.last, !(match < last) { return }
        let at = list.firstIndex { match < $0 } ?? list.count
        list.insert(match, at: at)
        if list.count > cap { list.removeLast() }
    }

    private static func cap(_ list: inout [MatchReference], _ cap: Int) {
        if list.count > cap { list.removeLast(list.count - cap) }
    }

    /// Ends the windows that end at or before `horizon`: summaries for fired
    /// ones, unfired ones forgotten.
    mutating func close(through horizon: Int64, stats: inout RuleStatistics, into alerts: inout [Alert]) {
        while let top = pending.top, top.end <= horizon {
            pending.pop()
            guard var state = keys[top.key],
                  let i = state.windows.firstIndex(where: { $0.fired && $0.end == top.end }) else { continue }
            if let summary = builder.summary(of: state.windows[i]) {
                alerts.append(summary)
                stats.summaries += 1
            }
            state.windows.remove(at: i)
            keys[top.key] = state.windows.isEmpty ? nil : state
        }
        guard horizon >= nextSweep else { return }
        nextSweep = horizon.plus(max(period, 1))
        for key in Array(keys.keys) {
            guard let state = keys[key], state.windows.contains(where: { !$0.fired && $0.end <= horizon }) else {
                continue
            }
            let kept = state.windows.filter { $0.fired || $0.end > horizon }
            keys[key] = kept.isEmpty ? nil : ThresholdKeyState(windows: kept)
        }
    }

    /// Evicts the keys with the oldest activity until a tenth of the cap is free
    /// (at least one), emitting the summaries they owe.
    mutating func evict(stats: inout RuleStatistics, into alerts: inout [Alert]) {
        let target = max(0, min(maxKeys - maxKeys / 10, keys.count - 1))
        let order = keys.map { (activity: $0.value.lastActivity, key: $0.key) }
            .sorted { $0.activity != $1.activity ? $0.activity < $1.activity : $0.key < $1.key }
        for victim in order.prefix(keys.count - target) {
            guard let state = keys.removeValue(forKey: victim.key) else { continue }
            for window in state.windows {
                if let summary = builder.summary(of: window) {
                    alerts.append(summary)
                    stats.summaries += 1
                }
            }
            stats.evictions += 1
        }
    }

    /// Ends every window (end of input).
    mutating func finish(stats: inout RuleStatistics, into alerts: inout [Alert]) {
        nextSweep = .min
        close(through: .max, stats: &stats, into: &alerts)
    }
}

/// A binary min-heap of (window end, key).
struct MinHeap {
    private var items: [(end: Int64, key: String)] = []

    var top: (end: Int64, key: String)? { items.first }
    var count: Int { items.count }

    mutating func push(_ end: Int64, _ key: String) {
        items.append((end, key))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].end < items[parent].end else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count, items[l].end < items[smallest].end { smallest = l }
            if r < items.count, items[r].end < items[smallest].end { smallest = r }
            if smallest == i { return }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
