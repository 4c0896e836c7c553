import KafkaIO

/// Splits each batch by partition over the ingest workers (a partition's records stay in
/// order on one worker) and waits for every slice before the next batch.
struct IngestProcessor: BatchProcessor {
    let workers: [IngestWorker]

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
