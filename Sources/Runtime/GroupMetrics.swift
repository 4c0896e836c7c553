import KafkaIO
import Metrics
import Synchronization

/// The Kafka-side metrics of one stage's consumer group (ops/metrics.md, "Kafka"):
/// `vigil_assigned_partitions`, `vigil_rebalances_total`, and `vigil_consumer_lag` per
/// assigned partition from librdkafka's statistics, `vigil_commits_total` from the outcome of
/// each commit the consumer issued (``RebalanceHooks/onCommit``). Also keeps the
/// assignment, which tells the ``StageStatus`` whether a revoke left the stage with nothing.
///
/// Every metric is made once (lag gauges once per partition while it is assigned), never per record.
final class GroupMetrics: Sendable {
    let group: String
    private let assignedGauge: Gauge
    private let assignedCounter: Counter
    private let revokedCounter: Counter
    private let lostCounter: Counter
    private let commitsOK: Counter
    private let commitsFailed: Counter
    private let processing: Timer
    private let state = Mutex<(assigned: Set<TopicPartition>, lag: [TopicPartition: Gauge])>(([], [:]))

    init(group: String, stage: String) {
        self.group = group
        assignedGauge = Gauge(label: "vigil_assigned_partitions", dimensions: [("group", group)])
        assignedCounter = Counter(label: "vigil_rebalances_total", dimensions: [("group", group), ("kind", "assigned")])
        revokedCounter = Counter(label: "vigil_rebalances_total", dimensions: [("group", group), ("kind", "revoked")])
        lostCounter = Counter(label: "vigil_rebalances_total", dimensions: [("group", group), ("kind", "lost")])
        commitsOK = Counter(label: "vigil_commits_total", dimensions: [("group", group), ("outcome", "ok")])
        commitsFailed = Counter(label: "vigil_commits_total", dimensions: [("group", group), ("outcome", "failed")])
        processing = Timer(label: "vigil_processing_seconds", dimensions: [("stage", stage)])
        assignedGauge.record(0)
    }

    /// Partitions assigned (added to the assignment).
    func assigned(_ partitions: [TopicPartition]) {
        assignedCounter.increment()
        let count = state.withLock { s in
            s.assigned.formUnion(partitions)
            return s.assigned.count
        }
        assignedGauge.record(count)
    }

    /// Partitions revoked (or lost); returns how many stay assigned. Their lag series go away.
    @discardableResult
    func revoked(_ partitions: [TopicPartition], lost: Bool) -> Int {
        (lost ? lostCounter : revokedCounter).increment()
        let (count, gone) = state.withLock { s in
            s.assigned.subtract(partitions)
            let gone = partitions.compactMap { s.lag.removeValue(forKey: $0) }
            return (s.assigned.count, gone)
        }
        for gauge in gone { gauge.destroy() }
        assignedGauge.record(count)
        return count
    }

    /// A statistics report: the lag of each assigned partition (records between the done
    /// offset and the high watermark; unknown values are not exported).
    func statistics(_ stats: KafkaStatistics) {
        let gauges: [(Gauge, Int64)] = state.withLock { s in
            stats.partitions.compactMap { p in
                let tp = p.topicPartition
                guard s.assigned.contains(tp), p.consumerLagStored >= 0 else { return nil }
                let gauge = s.lag[tp] ?? Gauge(label: "vigil_consumer_lag", dimensions: [
                    ("group", group), ("topic", tp.topic), ("partition", String(tp.partition))])
                s.lag[tp] = gauge
                return (gauge, p.consumerLagStored)
            }
        }
        for (gauge, lag) in gauges { gauge.record(lag) }
    }

    /// An offset commit's outcome (true: the broker took it).
    func committed(_ ok: Bool) {
        (ok ? commitsOK : commitsFailed).increment()
    }

    /// One batch's processing time (taken off the consumer → its records enqueued).
    func processed(in duration: Duration) {
        processing.record(duration: duration)
    }
}
