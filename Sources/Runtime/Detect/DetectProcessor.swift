import Detection
import KafkaIO
import Metrics

/// Hands each repartition record to a worker by key hash (a key's records stay in order on
/// one worker), evaluates the slices in parallel, then registers every record and produces
/// its alerts in batch order, so the tracker sees each partition's offsets in order.
struct DetectProcessor: BatchProcessor {
    let workers: [DetectWorker]
    let alertsTopic: String
    let deadLetterTopic: String
    let producer: KafkaProducer
    let consumer: KafkaConsumer
    let tracker: OffsetTracker
    let shared: DetectShared
    let alertCounter = Counter(label: "vigil_alerts_total")

    func process(_ batch: [ConsumerRecord]) async throws(RuntimeError) {
        var slices = Array(repeating: [(Int, ConsumerRecord)](), count: workers.count)
        for (position, record) in batch.enumerated() {
            slices[Self.slot(record, workers.count)].append((position, record))
        }
        var outcomes = Array(repeating: Result<[Alert], Undecodable>.success([]), count: batch.count)
        if workers.count == 1 {
            for (position, outcome) in workers[0].evaluate(slices[0]) { outcomes[position] = outcome }
        } else {
            let workers = self.workers
            let results = await withTaskGroup(of: [(Int, Result<[Alert], Undecodable>)].self) { group in
                for (worker, slice) in zip(workers, slices) where !slice.isEmpty {
                    group.addTask { worker.evaluate(slice) }
                }
                var all: [(Int, Result<[Alert], Undecodable>)] = []
                for await part in group { all += part }
                return all
            }
            for (position, outcome) in results { outcomes[position] = outcome }
        }
        for (record, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .success(let alerts):
                let (ticket, next) = tracker.register(record.topicPartition, offset: record.offset, pending: alerts.count)
                if let next { consumer.markDone(upTo: [record.topicPartition: next]) }
                for alert in alerts {
                    try await produce(AlertRecord.make(alert, topic: alertsTopic), ticket: ticket, what: "alert \(alert.id)")
                }
            case .failure(let undecodable):
                let (ticket, _) = tracker.register(record.topicPartition, offset: record.offset, pending: 1)
                try await produce(DeadLetterRecord.make(for: record, issue: undecodable.issue, topic: deadLetterTopic),
                                  ticket: ticket, what: "dead letter")
            }
        }
    }

    func tick() async throws(RuntimeError) {
        for worker in workers {
            for alert in worker.advanceIdle() {
                try await produce(AlertRecord.make(alert, topic: alertsTopic), ticket: nil, what: "alert \(alert.id)")
            }
        }
    }

    func revoked(_ partitions: [TopicPartition]) {
        for worker in workers { worker.drop(partitions) }
    }

    /// FNV-1a of the key (the partition for keyless records), modulo the worker count.
    static func slot(_ record: ConsumerRecord, _ count: Int) -> Int {
        guard count > 1 else { return 0 }
        guard let key = record.key else { return Int(record.partition) % count }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(count))
    }

    private func produce(_ record: ProducerRecord, ticket: OffsetTracker.Ticket?, what: String) async throws(RuntimeError) {
        let tracker = self.tracker, consumer = self.consumer, shared = self.shared, counter = alertCounter
        let isAlert = record.topic == alertsTopic
        do {
            try await producer.enqueue(record) { result in
                switch result {
                case .success:
                    if isAlert {
                        counter.increment()
                        shared.update { $0.alertsAcknowledged += 1 }
                    }
                    if let ticket, let next = tracker.acknowledge(ticket) {
                        consumer.markDone(upTo: [ticket.partition: next])
                    }
                case .failure(let error):
                    shared.fail(RuntimeError(code: .deliveryFailed, detail: "\(what) to \(record.topic): \(error)"))
                }
            }
        } catch {
            throw RuntimeError(error, "producing to \(record.topic)")
        }
    }
}
