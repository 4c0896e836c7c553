import Detection
import KafkaIO
import Logging

/// Stage 2: reads the repartition topic in the detect group, hands each record to one of N
/// workers by key hash (a key's records stay in order), evaluates the rules on event time
/// (one engine per assigned partition and worker), and produces alerts to the alerts topic
/// keyed by rule and group key.
///
/// At-least-once for what a record completes: a repartition record is marked done once the
/// alerts it produced and the changelog records of the state it changed are acknowledged.
/// Rule state (open windows, dedup periods, aggregates, the event-time clock) is restored from
/// the compacted changelog when a partition is assigned, before its records are processed, so
/// it survives restarts and moves with a partition on a rebalance.
/// Partitions idle for `limits.idle_advance` move their event time forward with the wall
/// clock, so windows of quiet keys still close.
public final class DetectStage: Sendable {
    public let topology: Topology
    public let rules: [Rule]
    private let logger: Logger
    private let shared = DetectShared()
    private let tracker = OffsetTracker()
    /// The workers, once the stage made them (for statistics).
    private let workers = Reference<[DetectWorker]>([])

    public init(topology: Topology, rules: [Rule], logger: Logger) {
        self.topology = topology
        self.rules = rules
        self.logger = logger
    }

    public var statistics: DetectStatistics { shared.statistics }

    /// Engine counters over every worker and partition now held.
    public var engineStatistics: EngineStatistics {
        var total = EngineStatistics()
        for worker in workers.get() { total.add(worker.statistics) }
        return total
    }

    /// Creates Vigil's topics when missing (if the topology says so), then consumes until the
    /// calling task is cancelled, then shuts down as the ingest stage does.
    public func run() async throws(RuntimeError) {
        let t = topology
        if t.topics.create { try await TopicSetup.ensure(t, logger: logger) }
        var loop = StageLoop(name: "detect", topology: t, group: t.kafka.detectGroup,
                             topics: [t.topics.repartition.name], tracker: tracker, logger: logger,
                             failure: { [shared] in shared.failure })
        loop.tickInterval = min(.seconds(1), t.limits.idleAdvance)
        let rules = self.rules
        try await loop.run { [tracker, shared, workers, logger] (consumer, producer) throws(RuntimeError) in
            var made: [DetectWorker] = []
            for index in 0..<t.workers.detect {
                made.append(try DetectWorker(topology: t, rules: rules, shared: shared, index: index))
            }
            workers.set(made)
            return DetectProcessor(workers: made, alertsTopic: t.topics.alerts.name,
                                   deadLetterTopic: t.topics.deadLetter.name, changelogTopic: t.topics.changelog.name,
                                   repartitionTopic: t.topics.repartition.name,
                                   client: t.consumerSettings(group: t.kafka.detectGroup).client,
                                   restoreTimeout: t.kafka.maxPollInterval / 2,
                                   changelogInterval: t.kafka.commitInterval, logger: logger,
                                   producer: producer, consumer: consumer, tracker: tracker, shared: shared)
        }
    }
}
