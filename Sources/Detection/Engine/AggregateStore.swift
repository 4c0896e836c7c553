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
    var windows: [Int64: GroupTable<AggregateGroupState>] = [:]
    /// The group key of the match being added, as bytes (reused: no allocation per match).
    private var scratch: [UInt8] = []
    /// The group-by values of the match being added (reused).
    private var values: [FieldValue] = []
    /// Statistics and source descriptions shared by groups (emptied when windows close).
    private var interned = Interned()
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

    /// The start of the clock-aligned window holding `time`. Times are clamped to 1677–2262
    /// (``Nanos``): the window of a time at the start of that range would start before it, so
    /// it starts at the range's start instead (an event dated 1000 lands there; the multiply
    /// overflowed and trapped).
    func windowStart(_ time: Int64) -> Int64 {
        var q = time / window
        if time % window != 0, time < 0 { q -= 1 }
        let (start, overflow) = q.multipliedReportingOverflow(by: window)
        return overflow ? .min : start
    }

    /// Adds a match; events missing a group-by field drop out (counted), a
    /// multi-valued group-by field counts the event in each of its values (SPL).
    mutating func add(match: MatchReference, context: AuditEventContext, enrichment: EventEnrichment,
                      stats: inout RuleStatistics, into alerts: inout [Alert]) {
        values.removeAll(keepingCapacity: true)
        var multiValued = false
        for field in aggregate.groupBy {
            switch context.values(of: field) {
            case .none:
                stats.missingGroupBy += 1
                return
            case .one(let value):
                values.append(value)
            case .many(let list):
                guard let first = list.first else {
                    stats.missingGroupBy += 1
                    return
                }
                values.append(first)
                multiValued = true
            }
        }
        guard multiValued else {
            add(match, group: values, context: context, enrichment: enrichment, stats: &stats, into: &alerts)
            return
        }
        // SPL's `by` over a multi-valued field: the event counts under each of its distinct values.
        var combinations: [[FieldValue]] = [[]]
        for field in aggregate.groupBy {
            let values = context.values(of: field).all
            combinations = values.count == 1
                ? combinations.map { $0 + [values[0]] }
                : combinations.flatMap { prefix in Self.distinct(values).map { prefix + [$0] } }
        }
        for values in combinations {
            add(match, group: values, context: context, enrichment: enrichment, stats: &stats, into: &alerts)
        }
    }

    /// Adds a match to the group of `values` in its window.
    private mutating func add(_ match: MatchReference, group values: [FieldValue], context: AuditEventContext,
                              enrichment: EventEnrichment, stats: inout RuleStatistics, into alerts: inout [Alert]) {
        let start = windowStart(match.time)
        scratch.removeAll(keepingCapacity: true)
        GroupKey.write(values: values, into: &scratch)
        let specs = aggregate.stats
        let maxReferences = self.maxReferences, maxValues = self.maxValues
        let scratch = self.scratch
        let fields = aggregate.groupBy.count
        var interned = Interned()
        swap(&interned, &self.interned)
        defer { swap(&interned, &self.interned) }
        // In place: copying the group out and storing it back copied its
        // statistics and references (the table still held them) per match.
        // The context and the enrichment are captured by address (by value, each
        // match copied them: a retain and release of every reference inside).
        let (key, isNew) = withUnsafePointer(to: context) { context in
            withUnsafePointer(to: enrichment) { enrichment in
                Self.update(&windows[start, default: GroupTable()]) { table in
                    let (slot, isNew) = table.slot(for: scratch) {
                        // Kept only when the key does not give them back.
                        let keyGives = GroupKey.values(of: String(decoding: scratch, as: UTF8.self), fields: fields)
                            == values.map(FieldValues.one)
                        return Self.newGroup(keyGives ? [] : values, time: match.time, specs, interned: &interned)
                    }
                    Self.add(match, group: values, specs: specs, maxReferences: maxReferences, maxValues: maxValues,
                             to: &table.slots[slot].state!, context: context.pointee, enrichment: enrichment.pointee,
                             stats: &stats, interned: &interned)
                    return (table.slots[slot].key, isNew)
                }
            }
        }
        changed?.insert(Slot(start: start, key: key))
        nextClose = min(nextClose, start.plus(window))
        if isNew {
            groupCount += 1
            if groupCount > maxKeys { evict(stats: &stats, into: &alerts) }
        }
    }

    @inline(__always)
    private static func update<R>(_ table: inout GroupTable<AggregateGroupState>,
                                  _ body: (inout GroupTable<AggregateGroupState>) -> R) -> R {
        body(&table)
    }

    /// A group of `values` with no match yet.
    private static func newGroup(_ values: [FieldValue], time: Int64, _ specs: [Rule.Statistic],
                                 interned: inout Interned) -> AggregateGroupState {
        var group = AggregateGroupState(groupValues: values, count: 0, firstSeen: time, lastSeen: time,
                                        statistics: [], matches: [], source: nil, dataVersions: nil,
                                        representative: nil)
        group.statisticsBox = interned.statistics(specs.map { statistic in
            switch statistic.function {
            case .count: return .count
            case .values, .distinctCount: return .distinct([], dropped: 0)
            case .min, .max: return .extreme(nil)
            }
        })
        group.described = interned.described(.init(source: nil, sourceIPField: nil, dataVersions: nil))
        return group
    }

    /// One match into `group` (of group-by `values`): each statistic reads its field from `context`;
    /// statistics the match adds nothing to are left as they are (shared).
    private static func add(_ match: MatchReference, group values: [FieldValue], specs: [Rule.Statistic],
                            maxReferences: Int, maxValues: Int,
                            to group: inout AggregateGroupState, context: AuditEventContext,
                            enrichment: EventEnrichment, stats: inout RuleStatistics, interned: inout Interned) {
        group.count += 1
        group.firstSeen = min(group.firstSeen, match.time)
        group.lastSeen = max(group.lastSeen, match.time)
        let current = group.statisticsBox.value
        var updated: [StatisticState]?
        for (i, statistic) in specs.enumerated() where i < current.count {
            let field: FieldReference
            switch statistic.function {
            case .count: continue
            case .values(let f), .distinctCount(let f), .min(let f), .max(let f): field = f
            }
            let values = context.values(of: field)
            if updated == nil {
                guard changes(current[i], statistic.function, values) else { continue }
                updated = current
            }
            accumulate(&updated![i], statistic.function, values, maxValues: maxValues, stats: &stats)
        }
        if let updated { group.statisticsBox = interned.statistics(updated) }
        // The representative is the earliest match: the first reference once inserted.
        let earliest = group.representative.map { match < $0 } ?? true
        group.refs.insert(sorted: match, cap: maxReferences)
        if earliest {
            group.representative = match
            // The address is left to the group-by value that gives it (most groups: then shared).
            let source = AlertBuilder.source(context.event, enrichment)
            let field = source.flatMap { source in values.firstIndex(of: .string(source.ip)) }
            group.setSource(source, sourceIPField: field, dataVersions: Alert.DataVersions(enrichment)) {
                interned.described($0)
            }
        }
    }

    /// Whether `values` would change `state` (a value it lacks, a new extreme).
    private static func changes(_ state: StatisticState, _ function: StatisticFunction, _ values: FieldValues) -> Bool {
        switch state {
        case .count: return false
        case .distinct(let sorted, _):
            return values.contains { value in
                let text = value.text
                let at = SPLOrder.insertionPoint(of: text, in: sorted)
                return !(at < sorted.count && sorted[at] == text)
            }
        case .extreme(let current):
            guard let current else { return !values.isEmpty }
            if case .max = function { return values.contains { SPLOrder.less(current, $0) } }
            return values.contains { SPLOrder.less($0, current) }
        }
    }

    /// The group-by values of `group` under `key` (read back from the key inside the engine).
    func groupValues(key: String, _ group: AggregateGroupState) -> [FieldValue] {
        guard group.groupValues.isEmpty, !aggregate.groupBy.isEmpty,
              let values = GroupKey.values(of: key, fields: aggregate.groupBy.count) else { return group.groupValues }
        return values.map { if case .one(let v) = $0 { v } else { .string("") } }
    }

    /// `group` as exported: with its group-by values.
    func exported(key: String, _ group: AggregateGroupState) -> AggregateGroupState {
        var out = group
        out.groupValues = groupValues(key: key, group)
        return out
    }

    /// Statistics and source descriptions by value, each kept once.
    struct Interned {
        private var statistics: [[StatisticState]: Shared<[StatisticState]>] = [:]
        private var descriptions: [AggregateGroupState.Described: Shared<AggregateGroupState.Described>] = [:]

        mutating func statistics(_ value: [StatisticState]) -> Shared<[StatisticState]> {
            if let box = statistics[value] { return box }
            let box = Shared(value)
            statistics[value] = box
            return box
        }

        mutating func described(_ value: AggregateGroupState.Described) -> Shared<AggregateGroupState.Described> {
            if let box = descriptions[value] { return box }
            let box = Shared(value)
            descriptions[value] = box
            return box
        }
    }

    /// Puts back an exported group (replacing what the store holds for it). Not a change: it
    /// comes from the saved state.
    mutating func restore(key: String, windowStart start: Int64, _ group: AggregateGroupState) {
        if windows[start]?[key] == nil { groupCount += 1 }
        windows[start, default: GroupTable()][key] = group
        nextClose = min(nextClose, start.plus(window))
    }

    private static func distinct(_ values: [FieldValue]) -> [FieldValue] {
        var seen = Set<FieldValue>()
        return values.filter { seen.insert($0).inserted }
    }

    private static func accumulate(_ state: inout StatisticState, _ function: StatisticFunction,
                                   _ values: FieldValues, maxValues: Int, stats: inout RuleStatistics) {
        switch state {
        case .count: return
        case .distinct(var sorted, let dropped):
            state = .count  // let `sorted` be uniquely referenced while it changes
            var extra = 0
            for v in values.all {
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
            for v in values.all {
                guard let b = best else { best = v; continue }
                if wantMax ? SPLOrder.less(b, v) : SPLOrder.less(v, b) { best = v }
            }
            state = .extreme(best)
        }
    }

    /// Closes the windows that end at or before `horizon`, in time order.
    mutating func close(through horizon: Int64, stats: inout RuleStatistics, into alerts: inout [Alert]) {
        guard horizon >= nextClose else { return }
        defer {
            nextClose = windows.keys.min().map { $0.plus(window) } ?? .max
            interned = Interned()  // the groups that closed held most of them
        }
        for start in windows.keys.sorted() where start.plus(window) <= horizon {
            guard let groups = windows.removeValue(forKey: start) else { continue }
            groupCount -= groups.count
            for (key, group) in groups.entries.sorted(by: { $0.key < $1.key }) {
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
        let groupValues = groupValues(key: key, group)
        for (i, field) in aggregate.groupBy.enumerated() where i < groupValues.count {
            fields[field.dottedName] = .one(groupValues[i])
            groupKey.append(Alert.Field(name: field.name, values: [groupValues[i]]))
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
                     count: group.count, groupKey: groupKey, source: group.source(groupValues: groupValues),
                     statistics: statistics,
                     events: group.refs.map(\.origin), eventsOmitted: group.count - group.refs.count,
                     dataVersions: group.dataVersions ?? Alert.DataVersions(.none))
    }

    /// Evicts the groups with the oldest activity until a tenth of the cap is
    /// free; an evicted group is closed early (its alert, if `having` holds, is
    /// raised now rather than lost).
    mutating func evict(stats: inout RuleStatistics, into alerts: inout [Alert]) {
        var order: [(activity: Int64, start: Int64, key: String)] = []
        for (start, groups) in windows {
            for (key, group) in groups.entries { order.append((group.lastSeen, start, key)) }
        }
        order.sort { ($0.activity, $0.start, $0.key) < ($1.activity, $1.start, $1.key) }
        for victim in order.prefix(EngineSettings.evictionCount(of: groupCount, maxKeys: maxKeys)) {
            guard let slot = windows[victim.start]?.find(victim.key),
                  let group = windows[victim.start]?.slots[slot].state else { continue }
            windows[victim.start]?.remove(at: slot)
            if windows[victim.start]?.count == 0 { windows[victim.start] = nil }
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
            if precedes(sorted[mid], text) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Whether `a`'s UTF-8 bytes order before `b`'s: compared in place (the
    /// generic `lexicographicallyPrecedes` over two UTF-8 views was ~1.7 % of the
    /// five-rule benchmark, from the scanning rule's nine statistics per match).
    @inline(__always)
    static func precedes(_ a: String, _ b: String) -> Bool {
        let inPlace = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                var i = 0
                let n = min(x.count, y.count)
                while i < n {
                    if x[i] != y[i] { return x[i] < y[i] }
                    i += 1
                }
                return x.count < y.count
            }
        }
        if let answer = inPlace ?? nil { return answer }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func less(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a.numeric, b.numeric) {
        case let (x?, y?): return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return precedes(a.text, b.text)
        }
    }
}
