import AuditEvents
import Detection
import KafkaIO
import Metrics
import Synchronization

/// The detect stage's metrics (ops/metrics.md). Counters of the record path are made once
/// and cached; per-rule ones are made the first time a rule shows up (rules are few, and a
/// reloaded rule set may bring new ones).
///
/// The engine's own counters (matches, evictions, keys, late events) live in each partition's
/// engine; ``sample(_:)`` turns their totals into counter increments and gauges when `/metrics`
/// is scraped, so evaluation pays nothing for them.
final class DetectMetrics: Sendable {
    let evaluated = Counter(label: "vigil_detect_records_total", dimensions: [("outcome", "evaluated")])
    let undecodable = Counter(label: "vigil_detect_records_total", dimensions: [("outcome", "undecodable")])
    let duplicates = Counter(label: "vigil_detect_records_total", dimensions: [("outcome", "duplicate")])
    private let changelogEntries = Counter(label: "vigil_changelog_records_total", dimensions: [("kind", "entry")])
    private let changelogTombstones = Counter(label: "vigil_changelog_records_total", dimensions: [("kind", "tombstone")])
    private let changelogClocks = Counter(label: "vigil_changelog_records_total", dimensions: [("kind", "clock")])
    let restoreTime = Timer(label: "vigil_state_restore_seconds")
    private let lateEvents = Counter(label: "vigil_late_events_total")
    private let futureEvents = Counter(label: "vigil_future_events_total")
    /// Per reason, every one: a repartition record dead-letters for skip reasons too.
    let deadLetters: [DecodeIssue.Reason: Counter]

    private struct RuleMetrics {
        var matches: Counter
        /// Keys evicted at `limits.max_keys_per_rule`.
        var evictions: Counter
        var keys: Gauge
        var latency: Timer
        var alerts: [Severity: Counter] = [:]
    }

    private struct State {
        var rules: [String: RuleMetrics] = [:]
        /// The engine totals at the last sample (counters move by the difference).
        var sampled = EngineStatistics()
    }

    private let state = Mutex(State())

    init(repartitionTopic: String, rules: [Rule]) {
        deadLetters = DeadLetterRecord.counters(topic: repartitionTopic, includingSkips: true)
        state.withLock { s in
            for rule in rules where rule.enabled { _ = Self.metrics(of: rule.id, in: &s) }
        }
    }

    private static func metrics(of rule: String, in s: inout State) -> RuleMetrics {
        if let m = s.rules[rule] { return m }
        let m = RuleMetrics(matches: Counter(label: "vigil_rule_matches_total", dimensions: [("rule", rule)]),
                            evictions: Counter(label: "vigil_state_evictions_total", dimensions: [("rule", rule)]),
                            keys: Gauge(label: "vigil_state_keys", dimensions: [("rule", rule)]),
                            latency: Timer(label: "vigil_alert_latency_seconds", dimensions: [("rule", rule)]))
        m.keys.record(0)
        s.rules[rule] = m
        return m
    }

    /// `vigil_changelog_records_total{kind}` for a diff's records: tombstones (no value), the
    /// worker's clock record, entries.
    func changelogWritten(_ records: some Sequence<ProducerRecord>, clockKey: String) {
        let clock = Array(clockKey.utf8)
        var entries = 0, tombstones = 0, clocks = 0
        for record in records {
            if record.value == nil {
                tombstones += 1
            } else if record.key == clock {
                clocks += 1
            } else {
                entries += 1
            }
        }
        if entries > 0 { changelogEntries.increment(by: entries) }
        if tombstones > 0 { changelogTombstones.increment(by: tombstones) }
        if clocks > 0 { changelogClocks.increment(by: clocks) }
    }

    /// The repartition record went to the dead-letter topic for this reason.
    func deadLettered(_ reason: DecodeIssue.Reason) {
        deadLetters[reason]?.increment()
    }

    /// An alert was acknowledged by the broker: `vigil_alerts_total{rule, severity}`, and
    /// `vigil_alert_latency_seconds{rule}` from the raw record's arrival (milliseconds) when known.
    func alertDelivered(rule: String, severity: Severity, arrival: Int64?, nowMilliseconds: Int64) {
        let (counter, latency): (Counter, Timer) = state.withLock { s in
            var m = Self.metrics(of: rule, in: &s)
            if let c = m.alerts[severity] { return (c, m.latency) }
            let c = Counter(label: "vigil_alerts_total", dimensions: [("rule", rule), ("severity", severity.rawValue)])
            m.alerts[severity] = c
            s.rules[rule] = m
            return (c, m.latency)
        }
        counter.increment()
        // The arrival comes from a record (a raw CreateTime, a repartition value): any Int64.
        if let arrival {
            let (elapsed, overflow) = nowMilliseconds.subtractingReportingOverflow(arrival)
            latency.recordMilliseconds(overflow ? (arrival < 0 ? Int64.max : 0) : max(0, elapsed))
        }
    }

    /// The engines' totals now (dropped partitions' counts included, keys only of live ones):
    /// matches, evictions and late events move by what they grew since the last sample.
    func sample(_ totals: EngineStatistics) {
        // (rule's metrics, new matches, new evictions, keys now)
        let updates: [(RuleMetrics, Int, Int, Int)] = state.withLock { s in
            var out: [(RuleMetrics, Int, Int, Int)] = []
            for (rule, now) in totals.rules {
                let before = s.sampled.rules[rule] ?? RuleStatistics()
                out.append((Self.metrics(of: rule, in: &s), max(0, now.matches - before.matches),
                            max(0, now.evictions - before.evictions), now.keys))
            }
            // Rules that no engine holds any more (all partitions revoked): no keys.
            for (rule, m) in s.rules where totals.rules[rule] == nil { out.append((m, 0, 0, 0)) }
            let late = max(0, totals.lateEvents - s.sampled.lateEvents)
            if late > 0 { lateEvents.increment(by: late) }
            let future = max(0, totals.futureEvents - s.sampled.futureEvents)
            if future > 0 { futureEvents.increment(by: future) }
            s.sampled = totals
            return out
        }
        for (m, matches, evictions, keys) in updates {
            if matches > 0 { m.matches.increment(by: matches) }
            if evictions > 0 { m.evictions.increment(by: evictions) }
            m.keys.record(keys)
        }
    }
}
