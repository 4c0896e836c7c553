import Detection
import KafkaIO

/// One detect worker holding one repartition partition, for `vigil-bench changelog`: evaluate
/// records, then take the partition's changelog diff (the engine's changed entries, or the whole
/// state compared with what was written, as diffs were taken before the engine tracked changes).
@_spi(Bench)
public final class ChangelogDiffProbe {
    private let worker: DetectWorker
    private let partition: TopicPartition

    public init(topology: Topology, rules: [Rule]) throws(RuntimeError) {
        worker = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 0)
        partition = TopicPartition(topology.topics.repartition.name, 0)
    }

    /// Evaluates repartition records of partition 0 (no diff); returns the alerts they raised.
    public func evaluate(_ records: [ConsumerRecord]) -> Int {
        worker.evaluate(records.enumerated().map { ($0.offset, $0.element) }, diffing: [])
            .outcomes.reduce(0) { $0 + ((try? $1.1.get())?.count ?? 0) }
    }

    /// Takes the partition's diff; returns the changelog records it made.
    public func diff(whole: Bool) -> Int {
        worker.diff([partition], whole: whole)[partition]?.count ?? 0
    }
}
