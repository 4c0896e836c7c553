import KafkaIO
import Logging

/// Splits each batch by partition over the ingest workers (a partition's records stay in
/// order on one worker) and waits for every slice before the next batch.
struct IngestProcessor: BatchProcessor {
    let workers: [IngestWorker]
    let tracker: OffsetTracker
    let producer: KafkaProducer
    let repartition: Topology.TopicSpec
    /// How long the gap notices may take to be acknowledged.
    let timeout: Duration
    let logger: Logger

    func process(_ batch: [ConsumerRecord]) async throws(RuntimeError) {
        if workers.count == 1 {
            try await workers[0].process(batch[...])
            return
        }
        var slices = Array(repeating: [ConsumerRecord](), count: workers.count)
        for record in batch {
            slices[Int(UInt(bitPattern: record.topicPartition.hashValue) % UInt(workers.count))].append(record)
        }
        try await forkJoin(zip(workers, slices).filter { !$0.1.isEmpty }) { worker, slice throws(RuntimeError) in
            try await worker.process(slice[...])
        }
    }

    func tick() async throws(RuntimeError) {}

    func revoked(_ partitions: [TopicPartition]) {}

    /// After a failed delivery: for each raw partition with records not done, a gap notice to
    /// every repartition partition (``RepartitionGap``), acknowledged before the consumer leaves
    /// the group, so it lands after whatever this attempt delivered and before anything the
    /// next owner of the raw partition produces again.
    func failed() async {
        let open = tracker.firstOpen
        guard !open.isEmpty else { return }
        let failures = Reference(0)
        var written = 0
        do throws(KafkaError) {
            for (tp, offset) in open.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }) {
                let gap = RepartitionGap(source: ChangelogRecord.RawPartition(topic: tp.topic, partition: tp.partition),
                                         offset: offset)
                for p in 0..<Int32(repartition.partitions) {
                    try await producer.enqueue(gap.record(topic: repartition.name, partition: p)) { result in
                        if case .failure = result { failures.update { $0 += 1 } }
                    }
                    written += 1
                }
            }
            try await producer.flush(timeout: timeout)
        } catch {
            logger.error("ingest: gap notices not written; events produced again after the failed delivery may be taken for copies",
                         metadata: ["error": "\(error)", "partitions": "\(open)"])
            return
        }
        if failures.get() > 0 {
            logger.error("ingest: gap notices not acknowledged; events produced again after the failed delivery may be taken for copies",
                         metadata: ["failed": "\(failures.get())", "partitions": "\(open)"])
        } else {
            logger.info("ingest: gap notices written after a failed delivery", metadata: ["records": "\(written)",
                                                                                          "partitions": "\(open)"])
        }
    }
}

/// Runs `body` for every item concurrently and waits for all; throws the first error.
func forkJoin<Item: Sendable>(_ items: [Item],
                              _ body: @escaping @Sendable (Item) async throws(RuntimeError) -> Void) async throws(RuntimeError) {
    let first: RuntimeError? = await withTaskGroup(of: RuntimeError?.self) { group in
        for item in items {
            group.addTask {
                do throws(RuntimeError) {
                    try await body(item)
                    return nil
                } catch {
                    return error
                }
            }
        }
        var first: RuntimeError?
        for await error in group where first == nil { first = error }
        return first
    }
    if let first { throw first }
}
