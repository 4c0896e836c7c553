import AuditEvents
import Enrichment

/// The state of one aggregate rule (Splunk's `stats ... by` over tumbling,
/// clock-aligned windows): groups per window start, closed when the horizon
/// passes the window's end, `having` evaluated then.
struct AggregateStore {
    let rule: Rule
    let aggregate: Rule.Aggregate
    /// The window length, nanoseconds.
    let window: Int64
    let maxKeys: Int
    let maxReferences: Int
    let maxValues: Int
    /// Window start → group key → group.
    var windows: [Int64: [String: AggregateGroupState]] = [:]
    /// Groups over all windows (for the key cap).
    var groupCount = 0
    /// The end of the earliest open window (`.max` when none): nothing to close before it.
    var nextClose: Int64 = .max
    /// Groups changed or removed since the last ``takeChanges(ruleID:into:)``; nil: not tracked.
    var changed: Set<Slot>?

    init(rule: Rule, aggregate: Rule.Aggregate, settings: EngineSettings) {
        self.rule = rule
        self.aggregate = aggregate
        window = max(1, aggregate.window.seconds.secondsAsNanos)
        maxKeys = settings.maxKeysPerRule
        maxReferences = settings.maxEventReferences
        maxValues = settings.maxStatisticValues
    }

    /// The start of the clock-aligned window holding `time`.
    func windowStart(_ time: Int64) -> Int64 {
        var q = time / window
        if time % window != 0, time < 0 { q -= 1 }
        return q * window
    }

    /// Adds a match; events missing a group-by field drop out (counted), a
    /// multi-valued group-by field counts the event in each of its values (SPL).
    mutating func add(match: MatchReference, context: AuditEventContext, enrichment: EventEnrichment,
                      stats: inout RuleStatistics, into alerts: inout [Alert]) {
        var combinations: [[FieldValue]] = [[]]
        for field in aggregate.groupBy {
            let values = context.values(of: field).all
            if values.isEmpty {
                stats.missingGroupBy += 1
                return
            }
            combinations = values.count == 1
                ? combinations.map { $0 + [values[0]] }
                : combinations.flatMap { prefix in Self.distinct(values).map { prefix + [$0] } }
        }
        let start = windowStart(match.time)
        let statValues = aggregate.stats.map { statistic -> [FieldValue] in
            switch statistic.function {
            case .count: return []
            case .values(let f), .distinctCount(let f), .min(let f), .max(let f): return context.values(of: f).all
            }
        }
        let specs = aggregate.stats
        let maxReferences = self.maxReferences, maxValues = self.maxValues
        for values in combinations {
            let key = GroupKey.text(values.lazy.map(FieldValues.one))
            var isNew = false
            // In place: copying the group out and storing it back copied its
            // statistics and references (the dictionary still held them) per match.
            Self.add(match, statValues, specs: specs, maxReferences: maxReferences, maxValues: maxValues,
                     to: &windows[start, default: [:]][key, default: Self.newGroup(values, time: match.time, specs)],
                     isNew: &isNew, context: context, enrichment: enrichment, stats: &stats)
            changed?.insert(Slot(start: start, key: key))
            nextClose = min(nextClose, start.plus(window))
            if isNew {
                groupCount += 1
                if groupCount > maxKeys { evict(stats: &stats, into: &alerts) }
            }
        }
    }

    /// A group of `values` with no match yet.
    private static func newGroup(_ values: [FieldValue], time: Int64,
                                 _ specs: [Rule.Statistic]) -> AggregateGroupState {
        AggregateGroupState(
            groupValues: values, count: 0, firstSeen: time, lastSeen: time,
            statistics: specs.map { statistic in
                switch statistic.function {
                case .count: return .count
                case .values, .distinctCount: return .distinct([], dropped: 0)
                case .min, .max: return .extreme(nil)
                }
            },
            matches: [], source: nil, dataVersions: nil, representative: nil)
    }

    /// One match (with its statistics' values) into `group`.
    private static func add(_ match: MatchReference, _ statValues: [[FieldValue]], specs: [Rule.Statistic],
                            maxReferences: Int, maxValues: Int, to group: inout AggregateGroupState,
                            isNew: inout Bool, context: AuditEventContext, enrichment: EventEnrichment,
                            stats: inout RuleStatistics) {
        isNew = group.count == 0
        group.count += 1
        group.firstSeen = min(group.firstSeen, match.time)
        group.lastSeen = max(group.lastSeen, match.time)
        for (i, statistic) in specs.enumerated() where i < group.statistics.count {
            accumulate(&group.statistics[i], statistic.function, statValues[i], maxValues: maxValues, stats: &stats)
        }
        group.matches.insert(sorted: match, cap: maxReferences)
        if group.representative.map({ match < $0 }) ?? true {
            group.representative = match
            group.source = AlertBuilder.source(context.event, enrichment)
            group.dataVersions = Alert.DataVersions(enrichment)
        }
    }

    /// Puts back an exported group (replacing what the store holds for it). Not a change: it
    /// comes from the saved state.
    mutating func restore(key: String, windowStart start: Int64, _ group: AggregateGroupState) {
        if windows[start]?[key] == nil { groupCount += 1 }
        windows[start, default: [:]][key] = group
        nextClose = min(nextClose, start.plus(window))
    }

    private static func distinct(_ values: [FieldValue]) -> [FieldValue] {
        var seen = Set<FieldValue>()
        return values.filter { seen.insert($0).inserted }
    }

    private static func accumulate(_ state: inout StatisticState, _ function: StatisticFunction,
                                   _ values: [FieldValue], maxValues: Int, stats: inout RuleStatistics) {
        switch state {
        case .count: return
        case .distinct(var sorted, let dropped):
            state = .count  // let `sorted` be uniquely referenced while it changes
            var extra = 0
            for v in values {
                let text = v.text
                let at = SPLOrder.insertionPoint(of: text, in: sorted)
                if at < sorted.count, sorted[at] == text { continue }
                if sorted.count < maxValues { sorted.insert(text, at: at) } else { extra += 1 }
            }
            stats.truncatedValues += extra
            state = .distinct(sorted, dropped: dropped + extra)
        case .extreme(let current):
            var best = current
            let wantMax: Bool
            if case .max = function { wantMax = true } else { wantMax = false }
            for v in values {
                guard let b = best else { best = v; continue }
                if wantMax ? SPLOrder.less(b, v) : SPLOrder.less(v, b) { best = v }
            }
            state = .extreme(best)
        }
    }

    /// Closes the windows that end at or before `horizon`, in time order.
    mutating func close(through horizon: Int64, stats: inout RuleStatistics, into alerts: inout [Alert]) {
        guard horizon >= nextClose else { return }
        defer { nextClose = windows.keys.min().map { $0.plus(window) } ?? .max }
        for start in windows.keys.sorted() where start.plus(window) <= horizon {
            guard let groups = windows.removeValue(forKey: start) else { continue }
            groupCount -= groups.count
            for key in groups.keys.sorted() {
                guard let group = groups[key] else { continue }
                changed?.insert(Slot(start: start, key: key))
                if let alert = alert(key: key, start: start, group: group) {
                    alerts.append(alert)
                    stats.alerts += 1
                }
            }
        }
    }

    /// The alert a closed group raises, if `having` holds.
    func alert(key: String, start: Int64, group: AggregateGroupState) -> Alert? {
        var fields: [String: FieldValues] = [:]
        var groupKey: [Alert.Field] = []
        for (i, field) in aggregate.groupBy.enumerated() where i < group.groupValues.count {
            fields[field.dottedName] = .one(group.groupValues[i])
            groupKey.append(Alert.Field(name: field.name, values: [group.groupValues[i]]))
        }
        var statistics: [Alert.Field] = []
        for (i, statistic) in aggregate.stats.enumerated() where i < group.statistics.count {
            let values: [FieldValue]
            switch (statistic.function, group.statistics[i]) {
            case (.count, _): values = [.number(Double(group.count))]
            case (.distinctCount, .distinct(let sorted, let dropped)): values = [.number(Double(sorted.count + dropped))]
            case (_, .distinct(let sorted, _)): values = sorted.map(FieldValue.string)
            case (_, .extreme(let v)): values = v.map { [$0] } ?? []
            default: values = []
            }
            fields[statistic.name] = FieldValues(values)
            statistics.append(Alert.Field(name: statistic.name, values: values))
        }
        let context = DictionaryContext(fields)
        if let having = aggregate.having, !having.evaluate(context) { return nil }
        return Alert(rule: rule, key: key, windowStart: EventTime(nanos: start), over: context,
                     firstSeen: EventTime(nanos: group.firstSeen), lastSeen: EventTime(nanos: group.lastSeen),
                     count: group.count, groupKey: groupKey, source: group.source, statistics: statistics,
                     events: group.matches.map(\.origin), eventsOmitted: group.count - group.matches.count,
                     dataVersions: group.dataVersions ?? Alert.DataVersions(.none))
    }

    /// Evicts the groups with the oldest activity until a tenth of the cap is
    /// free; an evicted group is closed early (its alert, if `having` holds, is
    /// raised now rather than lost).
    mutating func evict(stats: inout RuleStatistics, into alerts: inout [Alert]) {
        var order: [(activity: Int64, start: Int64, key: String)] = []
        for (start, groups) in windows {
            for (key, group) in groups { order.append((group.lastSeen, start, key)) }
        }
        order.sort { ($0.activity, $0.start, $0.key) < ($1.activity, $1.start, $1.key) }
        for victim in order.prefix(EngineSettings.evictionCount(of: groupCount, maxKeys: maxKeys)) {
            guard let group = windows[victim.start]?.removeValue(forKey: victim.key) else { continue }
            if windows[victim.start]?.isEmpty == true { windows[victim.start] = nil }
            changed?.insert(Slot(start: victim.start, key: victim.key))
            groupCount -= 1
            stats.evictions += 1
            if let alert = alert(key: victim.key, start: victim.start, group: group) {
                alerts.append(alert)
                stats.alerts += 1
            }
        }
    }
}

/// SPL's orders: `values()` sorts lexicographically by UTF-8 bytes (so `10`
/// before `9`, digits before upper case before lower case); `min`/`max`
/// compare numbers numerically and put numbers before strings.
enum SPLOrder {
    /// Where `text` is or would go in `sorted` (ordered by UTF-8 bytes).
    static func insertionPoint(of text: String, in sorted: [String]) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid].utf8.lexicographicallyPrecedes(text.utf8) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    static func less(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a.numeric, b.numeric) {
        case let (x?, y?): return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.text.utf8.lexicographicallyPrecedes(b.text.utf8)
        }
    }
}
