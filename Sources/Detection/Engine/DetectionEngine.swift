import AuditEvents
import Enrichment
import Foundation

/// Evaluates compiled rules over a stream of events on event time: stateless
/// matches, threshold, dedup and aggregate windows (semantics in the Detection
/// README, "Engine").
///
/// One per worker; not thread-safe (a worker owns it). Its state is plain
/// values (``exportState()`` / ``importState(_:)``); with `tracksChanges` it also
/// keeps which entries changed, so a changelog diff costs what changed (``takeChanges()``).
public struct DetectionEngine {
    /// The enabled rules, in the order given.
    public let rules: [Rule]
    public let settings: EngineSettings
    var evaluators: [RuleEvaluator]
    /// The read-only part of the rules, shared (not copied per event).
    let plan: EnginePlan
    /// The engine's event time (nanoseconds; `.min` before any): the latest event time seen
    /// (``latest``) or advanced to, but no further than the limits below.
    var clock: Int64 = .min
    /// The latest event time seen or restored (nanoseconds; `.min` before any).
    var latest: Int64 = .min
    /// How far the clock may go by the wall clock: the wall clock last observed plus
    /// ``EngineSettings/maxClockLead`` (``observeWallClock(_:)``); `.max` without either.
    var wallLimit: Int64 = .max
    /// How far the clock may go by the input (``holdClock(at:)``): the slowest active
    /// input's latest event time; `.max` when not held.
    var inputLimit: Int64 = .max
    var counters = EngineStatistics()
    /// No store has anything to close before this horizon (nanoseconds): the
    /// earliest deadline of any rule's windows, sweeps or summaries, or
    /// earlier. Stores are asked to close only once the horizon reaches it.
    var nextDeadline: Int64 = .min

    /// - Parameter tracksChanges: keep the set of entries changed or ended since the last
    ///   ``takeChanges()`` (a runtime writing a changelog takes it regularly; without a taker
    ///   the set would only grow, so replays and tests leave it off).
    public init(rules: [Rule], settings: EngineSettings = .init(), tracksChanges: Bool = false) {
        self.rules = rules.filter(\.enabled)
        self.settings = settings
        evaluators = self.rules.map { RuleEvaluator(rule: $0, settings: settings, tracksChanges: tracksChanges) }
        plan = EnginePlan(rules: self.rules)
    }

    /// The engine's event time: the latest event time seen or advanced to.
    public var eventTime: EventTime? { clock == .min ? nil : EventTime(nanos: clock) }

    /// The latest event time seen (or restored), no further than the wall clock lets the clock
    /// go: where an idle advance starts from. Nil before any.
    public var latestEventTime: EventTime? { latest == .min ? nil : EventTime(nanos: min(latest, wallLimit)) }

    /// How far the wall clock lets the clock go (``observeWallClock(_:)``); nil without a limit.
    public var wallClockLimit: EventTime? { wallLimit == .max ? nil : EventTime(nanos: wallLimit) }

    /// Events earlier than this are later than the allowed lateness.
    public var horizon: EventTime? { clock == .min ? nil : EventTime(nanos: horizonNanos) }

    var horizonNanos: Int64 {
        clock == .min ? .min : clock.plus(-settings.allowedLateness.secondsAsNanos)
    }

    /// Evaluates one event (stateless match, threshold, dedup, aggregate);
    /// returns the alerts it completes now, and the dedup summaries and
    /// aggregate alerts of windows its time closes.
    public mutating func process(_ event: AuditEvent, enrichment: EventEnrichment, origin: EventOrigin) -> [Alert] {
        counters.events += 1
        let time: Int64
        if let t = event.time {
            time = t.nanos
        } else {
            counters.untimedEvents += 1
            time = clock == .min ? 0 : clock
        }
        var alerts: [Alert] = []
        if time > latest { latest = time }
        // An event stamped past the wall-clock limit is evaluated at its own time, but the clock
        // stops at the limit: one clock-skewed or forged timestamp must not make the events
        // after it late (and silence every stateful rule) until real time catches up with it.
        // The input limit holds the clock at the slowest input's pace (``holdClock(at:)``).
        if time > wallLimit { counters.futureEvents += 1 }
        let target = min(latest, wallLimit, inputLimit)
        if target > clock {
            clock = target
            if horizonNanos >= nextDeadline { close(through: horizonNanos, into: &alerts) }
        }
        let late = time < horizonNanos
        if late { counters.lateEvents += 1 }
        // The plan is not retained around the loop (the engine holds it; the loop changes only
        // the evaluators): a retain and release per event.
        Unmanaged.passUnretained(plan)._withUnsafeGuaranteedRef { plan in
            plan.forEachMatch(event, enrichment: enrichment) { index, context in
                let deadline = evaluators[index].match(time: time, late: late, origin: origin, context: context,
                                                       enrichment: enrichment, into: &alerts)
                nextDeadline = min(nextDeadline, deadline)
            }
        }
        return alerts
    }

    /// The stateless part of ``process(_:enrichment:origin:)`` alone: how many rules' log
    /// type and condition hold for the event, evaluated as `process` evaluates them (the same
    /// loop), with no clock, state or alerts — the floor the stateful engine sits on
    /// (`vigil-bench rules`). ``Rule/matches(_:enrichment:)`` answers the same per rule.
    public func matchCount(_ event: AuditEvent, enrichment: EventEnrichment) -> Int {
        var count = 0
        plan.forEachMatch(event, enrichment: enrichment) { _, _ in count += 1 }
        return count
    }

    /// Moves event time forward with no event (idle partition, end of input):
    /// the horizon becomes `watermark` minus the allowed lateness, closing the
    /// aggregate windows and dedup periods that end before it (emitting their
    /// alerts and summaries) and forgetting expired threshold windows.
    public mutating func advance(to watermark: Date) -> [Alert] {
        let time = min(watermark.nanos, wallLimit, inputLimit)
        var alerts: [Alert] = []
        guard time > clock else { return alerts }
        clock = time
        if horizonNanos >= nextDeadline { close(through: horizonNanos, into: &alerts) }
        return alerts
    }

    /// Tells the engine the wall clock: with ``EngineSettings/maxClockLead`` set, its event-time
    /// clock goes no further than `now` plus that lead (events stamped later are counted in
    /// ``EngineStatistics/futureEvents``). A runtime calls this before each batch; without a
    /// call (replays of old logs, tests) the clock follows event time alone.
    public mutating func observeWallClock(_ now: Date) {
        guard let lead = settings.maxClockLead else { return }
        wallLimit = now.nanos.plus(lead.secondsAsNanos)
    }

    /// Holds the clock at or below `watermark` (nil: released): a runtime whose engine reads
    /// several inputs, each in its own event-time order but interleaved in chunks (a backlog
    /// drained partition by partition), passes the slowest active input's latest event time,
    /// so that one input running ahead does not make the others' events late. The clock
    /// catches up (to the latest event time seen, within the limits) with the next event.
    public mutating func holdClock(at watermark: EventTime?) {
        inputLimit = watermark?.nanos ?? .max
    }

    /// Holds the clock where it is (also before any event) until ``holdClock(at:)``.
    public mutating func holdClockWhereItIs() {
        inputLimit = clock
    }

    /// Ends everything still open (end of a replay): as advancing past every window.
    public mutating func finish() -> [Alert] {
        var alerts: [Alert] = []
        for i in evaluators.indices { evaluators[i].finish(into: &alerts) }
        nextDeadline = .min
        return alerts
    }

    /// Counters: events, late and untimed events, and per rule matches,
    /// alerts, summaries, evictions and keys tracked now.
    public var statistics: EngineStatistics {
        var out = counters
        for evaluator in evaluators {
            var rule = evaluator.stats
            rule.keys = evaluator.keyCount
            out.rules[evaluator.rule.id] = rule
        }
        return out
    }

    private mutating func close(through horizon: Int64, into alerts: inout [Alert]) {
        var next = Int64.max
        for i in evaluators.indices {
            evaluators[i].close(through: horizon, into: &alerts)
            next = min(next, evaluators[i].nextDeadline)
        }
        nextDeadline = next
    }
}

/// Which rules apply to each log type, with their lowered conditions,
/// computed once and shared by reference (the per-event loop reads it
/// without copying rule or condition values).
///
/// The per-event loop takes no reference: the entries of every log type lie in
/// one buffer the plan allocates (a log type's rules are a range of it), and
/// each entry holds its condition unmanaged, the plan's `conditions` keeping
/// it alive. An array of entries per type cost a retain and release of the
/// array and of each condition evaluated, per event.
final class EnginePlan: @unchecked Sendable {  // immutable after init; the buffer is freed in deinit
    /// A rule that applies: its index in the engine's rules and its condition as evaluated.
    struct Entry {
        let index: Int
        /// Owned by ``EnginePlan/conditions``.
        let condition: Unmanaged<EventTest>

        /// Whether the event behind `context` satisfies the rule's condition.
        @inline(__always)
        func holds(_ context: AuditEventContext) -> Bool {
            condition._withUnsafeGuaranteedRef { $0.holds(context) }
        }
    }

    /// Keeps every entry's condition alive.
    private let conditions: [EventTest]
    private let entries: UnsafeMutableBufferPointer<Entry>
    /// Per log type (by its position in `LogType.allCases`), where its entries lie in `entries`.
    private let ranges: [Range<Int>]

    init(rules: [Rule]) {
        precondition(LogType.allCases.indices.allSatisfy { Self.position(LogType.allCases[$0]) == $0 },
                     "EnginePlan.position(_:) must follow LogType.allCases")
        conditions = rules.map(\.condition.program)
        var flat: [Entry] = []
        var ranges: [Range<Int>] = []
        for type in LogType.allCases {
            let first = flat.count
            for i in rules.indices where rules[i].reads(type) {
                flat.append(Entry(index: i, condition: Unmanaged.passUnretained(conditions[i])))
            }
            ranges.append(first..<flat.count)
        }
        self.ranges = ranges
        entries = .allocate(capacity: max(flat.count, 1))
        _ = entries.initialize(from: flat)
    }

    deinit { entries.deallocate() }

    /// The rules that apply to `logType`, in rule order (valid while the plan lives).
    @inline(__always)
    func rules(for logType: LogType) -> UnsafeMutableBufferPointer<Entry>.SubSequence {
        entries[ranges[Self.position(logType)]]
    }

    /// Calls `body` with the index of each rule whose log type and condition hold for
    /// `event`, in rule order, and a context borrowing `enrichment` (valid for the call).
    @inline(__always)
    func forEachMatch(_ event: AuditEvent, enrichment: EventEnrichment, _ body: (Int, AuditEventContext) -> Void) {
        let rules = rules(for: event.logType)
        guard !rules.isEmpty else { return }
        AuditEventContext.withBorrowed(event: event, enrichment: enrichment) { context in
            for rule in rules where rule.holds(context) { body(rule.index, context) }
        }
    }

    @inline(__always)
    static func position(_ type: LogType) -> Int {
        switch type {
        case .eksAudit: return 0
        case .azureMonitorActivity: return 1
        case .gcpAuditLog: return 2
        case .kubernetesAudit: return 3
        case .ecsProcess: return 4
        }
    }
}

/// One rule inside the engine: its state and its counters.
struct RuleEvaluator {
    let rule: Rule
    var stats = RuleStatistics()
    var threshold: ThresholdStore?
    var aggregate: AggregateStore?
    let stateless: AlertBuilder?

    init(rule: Rule, settings: EngineSettings, tracksChanges: Bool) {
        self.rule = rule
        if let spec = rule.aggregate {
            aggregate = AggregateStore(rule: rule, aggregate: spec, settings: settings)
            if tracksChanges { aggregate?.changed = [] }
            stateless = nil
        } else if let dedup = rule.dedup {
            let groupBy = dedup.groupBy.isEmpty ? rule.threshold?.groupBy ?? [] : dedup.groupBy
            threshold = ThresholdStore(rule: rule, groupBy: groupBy, settings: settings)
            if tracksChanges { threshold?.changed = [] }
            stateless = nil
        } else {
            stateless = AlertBuilder(rule: rule, groupBy: [], maxReferences: settings.maxEventReferences)
        }
    }

    var keyCount: Int { threshold?.keys.count ?? aggregate?.groupCount ?? 0 }

    /// The earliest horizon at which ``close(through:into:)`` has anything to do (`.max`: never).
    var nextDeadline: Int64 { threshold?.nextDeadline ?? aggregate?.nextClose ?? .max }

    /// Adds a match of the rule; returns ``nextDeadline`` after it (read here, in place:
    /// the engine reading it through its array of evaluators copied the evaluator's stores).
    mutating func match(time: Int64, late: Bool, origin: EventOrigin, context: AuditEventContext,
                        enrichment: EventEnrichment, into alerts: inout [Alert]) -> Int64 {
        stats.matches += 1
        let match = MatchReference(time: time, origin: origin)
        if let stateless {
            // Every match is its own alert: the "window" is the event, keyed by its origin.
            let window = ThresholdWindow(start: time, end: time, count: 1, lastSeen: time, matches: [match], alert: nil)
            alerts.append(stateless.alert(key: origin.description, window: window, threshold: 1, context: context,
                                          enrichment: enrichment))
            stats.alerts += 1
            return .max
        }
        if late {
            stats.lateMatches += 1
        } else if threshold != nil {
            threshold!.add(match: match, context: context, enrichment: enrichment, stats: &stats, into: &alerts)
        } else if aggregate != nil {
            aggregate!.add(match: match, context: context, enrichment: enrichment, stats: &stats, into: &alerts)
        }
        return nextDeadline
    }

    mutating func close(through horizon: Int64, into alerts: inout [Alert]) {
        threshold?.close(through: horizon, stats: &stats, into: &alerts)
        aggregate?.close(through: horizon, stats: &stats, into: &alerts)
    }

    mutating func finish(into alerts: inout [Alert]) {
        threshold?.finish(stats: &stats, into: &alerts)
        aggregate?.close(through: .max, stats: &stats, into: &alerts)
    }
}
