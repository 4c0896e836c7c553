import KafkaIO
import Logging
import Metrics

/// Splits each batch into contiguous parts, one per ingest worker, which decode, enrich and
/// encode them in parallel; then registers every record and produces what it caused in batch
/// order (so a partition's offsets are registered, and its events produced, in offset order),
/// before the next batch.
///
/// Not split by partition: a fetch from Tansu answers one partition at a time (thousands of
/// records), so a batch of 1,000 was nearly always one partition and one worker did all of
/// it while the other waited (ops/bench/e2e.md, 2026-11-22 16:30).
struct IngestProcessor: BatchProcessor {
    let workers: [IngestWorker]
    let tracker: OffsetTracker
    let producer: KafkaProducer
    let consumer: KafkaConsumer
    let shared: IngestShared
    let repartition: Topology.TopicSpec
    /// The repartition topic's partitions as the workers place frames among them (the broker's
    /// count, read at start; the topology's when it could not be read): gap notices go to each.
    let partitions: Int
    /// How long the gap notices may take to be acknowledged.
    let timeout: Duration
    let logger: Logger

    /// `vigil_repartition_records_total`: repartition records acknowledged (a frame counts once;
    /// `vigil-bench drain` compares it with the detect group's committed offsets).
    static let repartitionRecords = Counter(label: "vigil_repartition_records_total")

    /// Below this many records a batch is encoded by one worker (a task per part costs more).
    static let splitAbove = 64

    func process(_ batch: [ConsumerRecord]) async throws(RuntimeError) {
        let parts = Self.parts(batch.count, workers.count, splitAbove: Self.splitAbove)
        if parts.count <= 1 {
            try await produce(workers[0].encode(batch[...]))
            return
        }
        let encoded = await withTaskGroup(of: (Int, IngestWorker.Encoded).self) { group in
            for (index, range) in parts.enumerated() {
                let worker = workers[index]
                group.addTask { (index, worker.encode(batch[range])) }
            }
            var all = Array(repeating: IngestWorker.Encoded(), count: parts.count)
            for await (index, part) in group { all[index] = part }
            return all
        }
        for part in encoded { try await produce(part) }
    }

    /// Registers each record with the tracker (before anything of it is produced), then hands
    /// the outputs to the producer in order (a partition's frames in the order their events
    /// came); an input is done when every output carrying something of it is acknowledged.
    func produce(_ encoded: IngestWorker.Encoded) async throws(RuntimeError) {
        var tickets: [OffsetTracker.Ticket] = []
        tickets.reserveCapacity(encoded.inputs.count)
        for (partition, offset, count) in encoded.inputs {
            let (ticket, done) = tracker.register(partition, offset: offset, pending: count)
            if let done { consumer.markDone(partition, upTo: done) }
            tickets.append(ticket)
        }
        for output in encoded.outputs {
            // The callback holds the topic and the tickets, not the record: librdkafka copied the
            // bytes, and the record's arrays are freed here rather than on the producer's thread later.
            let tracker = self.tracker, consumer = self.consumer, shared = self.shared, topic = output.record.topic
            let repartitionRecords = Self.repartitionRecords
            let ticket = tickets[output.input], more = output.moreInputs.map { tickets[$0] }
            let isDeadLetter = output.deadLetter, events = output.events
            do {
                try await producer.enqueue(output.record) { result in
                    switch result {
                    case .success:
                        shared.update {
                            if isDeadLetter {
                                $0.deadLettersAcknowledged += 1
                            } else {
                                $0.eventsAcknowledged += events
                                $0.repartitionRecordsAcknowledged += 1
                            }
                        }
                        if !isDeadLetter { repartitionRecords.increment() }
                        if let next = tracker.acknowledge(ticket) { consumer.markDone(ticket.partition, upTo: next) }
                        for ticket in more {
                            if let next = tracker.acknowledge(ticket) { consumer.markDone(ticket.partition, upTo: next) }
                        }
                    case .failure(let error):
                        // Not marked done: the inputs are read again after a restart.
                        let inputs = ([ticket] + more).map { "\($0.partition)@\($0.offset)" }.joined(separator: ", ")
                        shared.failDelivery(RuntimeError(code: .deliveryFailed, detail: "\(topic) for input \(inputs): \(error)"),
                                            topic: topic)
                    }
                }
            } catch {
                throw RuntimeError(error, "producing to \(topic)")
            }
        }
    }

    /// `count` records in at most `workers` contiguous, near-equal ranges (one when
    /// `count` is at most `splitAbove`).
    static func parts(_ count: Int, _ workers: Int, splitAbove: Int) -> [Range<Int>] {
        let n = count <= splitAbove ? 1 : max(1, min(workers, count))
        return (0..<n).map { i in (count * i / n)..<(count * (i + 1) / n) }
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
                for p in 0..<Int32(partitions) {
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
