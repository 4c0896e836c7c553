import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import Synchronization

/// One detect worker: the rule engines of the keys hashed to it, one engine per assigned
/// partition (so a partition's state can be dropped, and later saved and restored, on its
/// own), and a decoder for repartition records.
///
/// Evaluation runs under the worker's lock (batches and idle ticks never overlap on an
/// engine); the ``DetectProcessor`` produces the alerts afterwards, in batch order.
final class DetectWorker: Sendable {
    private struct Partition {
        var engine: DetectionEngine
        /// The latest event time seen and when (wall clock) it was seen: idle advance.
        var lastEventTime: Date?
        var lastActivity: ContinuousClock.Instant
    }

    private struct State {
        var partitions: [TopicPartition: Partition] = [:]
        let decoder: RepartitionDecoder
    }

    // The decoder is not Sendable; it only lives inside the mutex.
    private let state: Mutex<State>
    private let rules: [Rule]
    private let settings: EngineSettings
    private let shared: DetectShared
    private let idleAfter: Duration

    init(topology: Topology, rules: [Rule], shared: DetectShared) throws(RuntimeError) {
        let decoder = try RepartitionDecoder(options: DecoderOptions(maxRecordBytes: topology.limits.maxRecordBytes,
                                                                     maxDepth: topology.limits.maxDepth))
        state = Mutex(State(decoder: decoder))
        self.rules = rules
        settings = EngineSettings(allowedLateness: topology.limits.allowedLateness.components.seconds,
                                  maxKeysPerRule: topology.limits.maxKeysPerRule)
        self.shared = shared
        idleAfter = topology.limits.idleAdvance
    }

    /// Evaluates records (batch position, record) in order; returns each one's alerts, or why
    /// its event could not be rebuilt (the record then goes to the dead-letter topic).
    func evaluate(_ records: [(Int, ConsumerRecord)]) -> [(Int, Result<[Alert], Undecodable>)] {
        let now = ContinuousClock.now
        return state.withLock { s in
            records.map { position, record in
                switch s.decoder.decode(record) {
                case .issue(let issue):
                    shared.update { $0.undecodable += 1; $0.records += 1 }
                    return (position, .failure(Undecodable(issue: issue)))
                case .event(let e):
                    var p = s.partitions[record.topicPartition]
                        ?? Partition(engine: DetectionEngine(rules: rules, settings: settings), lastEventTime: nil,
                                     lastActivity: now)
                    let origin = EventOrigin.kafka(topic: e.origin.topic, partition: e.origin.partition,
                                                   offset: e.origin.offset)
                    let alerts = p.engine.process(e.event, enrichment: e.enrichment, origin: origin)
                    if let time = e.event.time {
                        let date = IngestWorker.date(time)
                        p.lastEventTime = max(p.lastEventTime ?? date, date)
                    }
                    p.lastActivity = now
                    s.partitions[record.topicPartition] = p
                    shared.update { $0.records += 1; $0.alerts += alerts.count }
                    return (position, .success(alerts))
                }
            }
        }
    }

    /// Moves the event time of partitions idle for `limits.idle_advance` forward by the wall-clock
    /// time they were idle, closing windows of quiet keys; produces what that emits.
    func advanceIdle() -> [Alert] {
        let now = ContinuousClock.now
        let alerts: [Alert] = state.withLock { s in
            var out: [Alert] = []
            for (tp, var p) in s.partitions {
                guard let last = p.lastEventTime, now - p.lastActivity >= idleAfter else { continue }
                let idle = now - p.lastActivity
                let seconds = Double(idle.components.seconds) + Double(idle.components.attoseconds) / 1e18
                out += p.engine.advance(to: last.addingTimeInterval(seconds))
                s.partitions[tp] = p
            }
            return out
        }
        if !alerts.isEmpty { shared.update { $0.alerts += alerts.count; $0.idleAlerts += alerts.count } }
        return alerts
    }

    /// Forgets the engines of revoked partitions (their state is not saved yet: see the README).
    func drop(_ partitions: [TopicPartition]) {
        state.withLock { s in
            for p in partitions { s.partitions[p] = nil }
        }
    }

    /// Engine counters summed over this worker's partitions.
    var statistics: EngineStatistics {
        state.withLock { s in
            var total = EngineStatistics()
            for p in s.partitions.values { total.add(p.engine.statistics) }
            return total
        }
    }
}

/// A repartition record whose event could not be rebuilt.
struct Undecodable: Error {
    let issue: DecodeIssue
}

extension EngineStatistics {
    /// Adds another engine's counters (keys tracked add up: engines hold disjoint keys).
    mutating func add(_ other: EngineStatistics) {
        events += other.events
        lateEvents += other.lateEvents
        untimedEvents += other.untimedEvents
        for (id, r) in other.rules {
            var t = rules[id] ?? RuleStatistics()
            t.matches += r.matches
            t.lateMatches += r.lateMatches
            t.missingGroupBy += r.missingGroupBy
            t.alerts += r.alerts
            t.summaries += r.summaries
            t.evictions += r.evictions
            t.keys += r.keys
            t.truncatedValues += r.truncatedValues
            rules[id] = t
        }
    }
}
