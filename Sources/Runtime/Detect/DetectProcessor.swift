import Detection
import KafkaIO
import Logging
import Metrics

/// Hands each repartition record to a worker by key hash (a key's records stay in order on
/// one worker), evaluates the slices in parallel, then registers every record and produces
/// its alerts in batch order, so the tracker sees each partition's offsets in order.
///
/// Durable state: the changelog records an evaluation returns for a partition are produced
/// with the ticket of that partition's *first* record in the batch, so no offset of the batch
/// becomes committable before the state that covers it is acknowledged. On assignment each
/// partition's state is read back from the changelog before any of its records is handed
/// over (``restore(_:)``).
struct DetectProcessor: BatchProcessor {
    let workers: [DetectWorker]
    let alertsTopic: String
    let deadLetterTopic: String
    let changelogTopic: String
    let repartitionTopic: String
    /// For the changelog reader (assign mode) and how long a restore may take.
    let client: ClientSettings
    let restoreTimeout: Duration
    let logger: Logger
    let producer: KafkaProducer
    let consumer: KafkaConsumer
    let tracker: OffsetTracker
    let shared: DetectShared
    let alertCounter = Counter(label: "vigil_alerts_total")

    func process(_ batch: [ConsumerRecord]) async throws(RuntimeError) {
        // A failed restore must not let records run on empty state (nor their offsets commit).
        if let failure = shared.failure { throw failure }
        var slices = Array(repeating: [(Int, ConsumerRecord)](), count: workers.count)
        for (position, record) in batch.enumerated() {
            slices[Self.slot(record, workers.count)].append((position, record))
        }
        var outcomes = Array(repeating: Result<[Alert], Undecodable>.success([]), count: batch.count)
        var changes: DetectWorker.Changes = [:]
        let workers = self.workers
        let results = await withTaskGroup(of: DetectWorker.Evaluation.self) { group in
            for (worker, slice) in zip(workers, slices) where !slice.isEmpty {
                group.addTask { worker.evaluate(slice) }
            }
            var all: [DetectWorker.Evaluation] = []
            for await part in group { all.append(part) }
            return all
        }
        for result in results {
            for (position, outcome) in result.outcomes { outcomes[position] = outcome }
            for (tp, records) in result.changes { changes[tp, default: []] += records }
        }
        for (record, outcome) in zip(batch, outcomes) {
            // The partition's first record in the batch also waits for its changelog records.
            let state = changes.removeValue(forKey: record.topicPartition) ?? []
            switch outcome {
            case .success(let alerts):
                let (ticket, next) = tracker.register(record.topicPartition, offset: record.offset,
                                                      pending: alerts.count + state.count)
                if let next { consumer.markDone(upTo: [record.topicPartition: next]) }
                for change in state { try await produce(change, ticket: ticket, what: "changelog record") }
                for alert in alerts {
                    try await produce(AlertRecord.make(alert, topic: alertsTopic), ticket: ticket, what: "alert \(alert.id)")
                }
            case .failure(let undecodable):
                let (ticket, _) = tracker.register(record.topicPartition, offset: record.offset, pending: 1 + state.count)
                for change in state { try await produce(change, ticket: ticket, what: "changelog record") }
                try await produce(DeadLetterRecord.make(for: record, issue: undecodable.issue, topic: deadLetterTopic),
                                  ticket: ticket, what: "dead letter")
            }
        }
    }

    func tick() async throws(RuntimeError) {
        for worker in workers {
            let (alerts, changes) = worker.advanceIdle()
            for records in changes.values {
                for change in records { try await produce(change, ticket: nil, what: "changelog record") }
            }
            for alert in alerts {
                try await produce(AlertRecord.make(alert, topic: alertsTopic), ticket: nil, what: "alert \(alert.id)")
            }
        }
    }

    /// Restores the assigned repartition partitions' state, in parallel: for each, a marker
    /// record is written to its changelog partition (Tansu's ListOffsets end is not the true
    /// end; the marker's offset is), the partition is read from 0 to the marker and folded to
    /// the latest value per key, and each worker imports its share. A failed restore stops the
    /// stage (records must not run on empty state).
    func assigned(_ partitions: [TopicPartition]) async {
        let mine = partitions.filter { $0.topic == repartitionTopic }
        await withTaskGroup(of: Void.self) { group in
            for tp in mine {
                group.addTask {
                    do throws(RuntimeError) {
                        try await restore(tp)
                    } catch {
                        logger.error("detect: state restore failed; stopping", metadata: ["partition": "\(tp)",
                                                                                            "error": "\(error)"])
                        shared.fail(error)
                    }
                }
            }
        }
    }

    func restore(_ tp: TopicPartition) async throws(RuntimeError) {
        let start = ContinuousClock.now
        let end: Int64
        do {
            var marker = ProducerRecord(topic: changelogTopic, key: Array(ChangelogRecord.markerKey.utf8),
                                        value: Array("\(start)".utf8), headers: [ChangelogRecord.versionHeader])
            marker.partition = tp.partition
            end = try await producer.send(marker).offset
        } catch {
            throw RuntimeError(error, "restore marker to \(changelogTopic)[\(tp.partition)]")
        }
        let snapshot: ChangelogRecord.Snapshot
        do {
            let reader = try KafkaPartitionReader(settings: client, topic: changelogTopic, partition: tp.partition,
                                                  logger: logger)
            snapshot = try await reader.read(to: end, timeout: restoreTimeout, into: ChangelogRecord.Snapshot()) {
                $0.apply($1)
            }
        } catch {
            throw RuntimeError(error, "reading \(changelogTopic)[\(tp.partition)] to offset \(end)")
        }
        let (states, unreadable) = snapshot.states(workers: workers.count)
        var skipped = unreadable, entries = 0
        for worker in workers {
            let restored = states[worker.index] ?? ChangelogRecord.Restored()
            skipped += worker.restore(tp, restored)
            entries += restored.state.entries.count
        }
        if skipped > 0 {
            logger.warning("detect: changelog records or entries not restored (unreadable, or of rules no longer loaded)",
                           metadata: ["partition": "\(tp)", "skipped": "\(skipped)"])
        }
        shared.update { $0.partitionsRestored += 1; $0.entriesRestored += entries; $0.restoreSkipped += skipped }
        logger.info("detect: state restored", metadata: [
            "partition": "\(tp)", "records": "\(snapshot.records)", "entries": "\(entries)",
            "took": "\(ContinuousClock.now - start)"])
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
