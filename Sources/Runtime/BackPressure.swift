import KafkaIO
import Metrics
import Synchronization

/// What a stage's bounds did (``BackPressureMonitor``).
public struct BackPressureStatistics: Sendable, Equatable {
    /// Records held: fetched and waiting for the stage, plus produced and not yet acknowledged
    /// by the broker (bounded by `limits.consumer_buffer` + a batch, and `limits.max_in_flight`).
    /// Now, and the most sampled.
    public var queueDepth = 0
    public var maxQueueDepth = 0
    /// Partitions paused now.
    public var pausedPartitions = 0
    /// Times a full consumer buffer paused consumption, by reason (see ``BackPressureMonitor``).
    public var pauses: [String: Int] = [:]

    public init() {}
}

/// Watches a stage's bounds and shows when they bite: samples the consumer's buffer and
/// pauses and the producer's records in flight and waits (`vigil_queue_depth`,
/// `vigil_paused_partitions`, `vigil_backpressure_pauses_total{reason}`).
///
/// Consumption pauses in one place: the consumer's hand-over buffer (`limits.consumer_buffer`)
/// fills because the stage stopped taking batches, and KafkaIO pauses the assignment (it keeps
/// polling, so the member stays in the group). A pause is put down to what held the stage:
/// `in_flight` when produced records waited for room under `limits.max_in_flight` (a slow or
/// unreachable output topic), `producer_queue` when librdkafka's own queue was full, else
/// `processing` (the workers slower than the fetch: CPU, or a hot key holding one detect worker).
final class BackPressureMonitor: Sendable {
    private struct Seen {
        var statistics = BackPressureStatistics()
        var capacityPauses = 0
        var inFlightWaits = 0
        var queueFullWaits = 0
    }

    private let stage: String
    private let state = Mutex(Seen())
    private let depthGauge: Gauge
    private let pausedGauge: Gauge

    init(stage: String) {
        self.stage = stage
        depthGauge = Gauge(label: "vigil_queue_depth", dimensions: [("stage", stage)])
        pausedGauge = Gauge(label: "vigil_paused_partitions", dimensions: [("stage", stage)])
    }

    var statistics: BackPressureStatistics { state.withLock { $0.statistics } }

    /// Takes one sample (after each batch and every ``interval`` while a batch waits).
    func sample(_ consumer: KafkaConsumer, _ producer: KafkaProducer) {
        // Not the offset tracker's pending input records: in detect they include records done
        // but waiting for the next changelog diff (offsets, not records held).
        let depth = consumer.bufferedCount + producer.inFlight
        let pauses = consumer.pauses
        let waits = producer.waits
        let blockedNow = producer.inFlight >= producer.settings.maxInFlight
        let (newPauses, reason): (Int, String) = state.withLock { s in
            let new = pauses.capacityPauses - s.capacityPauses
            let reason = waits.inFlight > s.inFlightWaits || blockedNow ? "in_flight"
                : waits.queueFull > s.queueFullWaits ? "producer_queue" : "processing"
            s.capacityPauses = pauses.capacityPauses
            s.inFlightWaits = waits.inFlight
            s.queueFullWaits = waits.queueFull
            s.statistics.queueDepth = depth
            s.statistics.maxQueueDepth = max(s.statistics.maxQueueDepth, depth)
            s.statistics.pausedPartitions = pauses.paused
            if new > 0 { s.statistics.pauses[reason, default: 0] += new }
            return (new, reason)
        }
        depthGauge.record(depth)
        pausedGauge.record(pauses.paused)
        if newPauses > 0 {
            Counter(label: "vigil_backpressure_pauses_total", dimensions: [("stage", stage), ("reason", reason)])
                .increment(by: newPauses)
        }
    }

    /// How often the stage loop samples while it runs.
    static let interval: Duration = .milliseconds(200)
}
