import AuditEvents
import Enrichment
import Foundation
import KafkaIO
import Logging
import Synchronization

/// State the ingest workers and the producer's delivery callbacks share: counts and the
/// first delivery failure.
final class IngestShared: Sendable {
    private let state = Mutex<(statistics: IngestStatistics, failure: RuntimeError?)>((IngestStatistics(), nil))

    func update(_ body: (inout IngestStatistics) -> Void) {
        state.withLock { body(&$0.statistics) }
    }

    func fail(_ error: RuntimeError) {
        state.withLock { s in
            s.statistics.deliveryFailures += 1
            if s.failure == nil { s.failure = error }
        }
    }

    var statistics: IngestStatistics { state.withLock { $0.statistics } }
    var failure: RuntimeError? { state.withLock { $0.failure } }
}

/// Stage 1: reads the raw topics in the ingest group, decodes each record with its topic's
/// decoder, enriches each event (GeoIP, Tor), and produces it to the repartition topic
/// keyed by source IP; records that do not decode go to the dead-letter topic.
///
/// At-least-once: a raw record is marked done only after every record it caused is
/// acknowledged by the broker (``OffsetTracker``); done offsets are committed every
/// `kafka.commit_interval`, on revoke (after the partition's in-flight records are
/// acknowledged) and on shutdown. See Sources/Runtime/README.md.
public final class IngestStage: Sendable {
    public let topology: Topology
    private let logger: Logger
    private let shared = IngestShared()
    private let tracker = OffsetTracker()
    private let geo: GeoLocator?
    private let tor: TorExitList?

    /// Opens the enrichment data (GeoIP file, saved Tor list); connects to nothing yet.
    public init(topology: Topology, logger: Logger) throws(RuntimeError) {
        self.topology = topology
        self.logger = logger
        if let g = topology.enrichment.geoIP {
            do {
                geo = try GeoLocator(configuration: g.locatorConfiguration, logger: logger)
            } catch {
                throw RuntimeError(code: .enrichment, detail: "GeoIP database \(g.path): \(error)")
            }
        } else {
            geo = nil
        }
        tor = topology.enrichment.tor.map { TorExitList(configuration: $0.listConfiguration, logger: logger) }
    }

    /// Counts so far.
    public var statistics: IngestStatistics { shared.statistics }

    /// Creates Vigil's topics when missing (if the topology says so), then consumes until
    /// the calling task is cancelled; then stops fetching, flushes the producer, commits
    /// and leaves the group, each step bounded by `limits.shutdown_timeout`. Throws on an
    /// infrastructure failure (a record the broker would not take), after the same shutdown.
    public func run() async throws(RuntimeError) {
        let t = topology
        if t.topics.create { try await TopicSetup.ensure(t, logger: logger) }
        let producer: KafkaProducer
        let consumer: KafkaConsumer
        do {
            producer = try KafkaProducer(settings: t.producerSettings(), logger: logger)
        } catch {
            throw RuntimeError(error, "ingest producer")
        }
        let tracker = self.tracker, logger = self.logger
        let revokeWait = min(t.limits.shutdownTimeout, t.kafka.maxPollInterval / 2)
        let hooks = RebalanceHooks(
            onAssign: { partitions in
                logger.info("ingest: partitions assigned", metadata: ["partitions": "\(partitions.sorted())"])
            },
            onRevoke: { partitions, lost in
                // Finish in-flight work first: its acknowledgements mark offsets done, and
                // those are committed once this returns. A lost assignment commits nothing.
                if !lost {
                    let deadline = ContinuousClock.now + revokeWait
                    while tracker.pending(partitions) > 0 && ContinuousClock.now < deadline {
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
                tracker.drop(partitions)
                logger.info("ingest: partitions revoked",
                            metadata: ["partitions": "\(partitions.sorted())", "lost": "\(lost)"])
            })
        do {
            consumer = try KafkaConsumer(settings: t.consumerSettings(group: t.kafka.ingestGroup),
                                         topics: t.sources.map(\.topic), hooks: hooks, logger: logger)
        } catch {
            await producer.close(timeout: .seconds(1))
            throw RuntimeError(error, "ingest consumer")
        }
        let enricher = Enricher(geo: geo, tor: tor)
        var workers: [IngestWorker] = []
        do {
            for _ in 0..<t.workers.ingest {
                workers.append(try IngestWorker(topology: t, enricher: enricher, producer: producer,
                                                consumer: consumer, tracker: tracker, shared: shared))
            }
        } catch {
            await shutDown(consumer, producer)
            throw error
        }
        let background = startEnrichmentRefresh()
        await waitForTorList()
        logger.info("ingest: running", metadata: [
            "sources": "\(t.sources.map(\.topic))", "group": "\(t.kafka.ingestGroup)",
            "repartition": "\(t.topics.repartition.name)", "workers": "\(workers.count)",
        ])
        var failure: RuntimeError?
        do {
            for try await batch in consumer.batches {
                let finished = workers
                // Shielded from cancellation: a batch handed over is registered and produced
                // whole, so shutdown finds no half-registered record.
                let outcome = await Task { () async -> RuntimeError? in
                    do throws(RuntimeError) {
                        try await Self.process(batch, with: finished)
                        return nil
                    } catch {
                        return error
                    }
                }.value
                if let error = outcome ?? shared.failure {
                    failure = error
                    break
                }
                if Task.isCancelled { break }
            }
        } catch {
            failure = RuntimeError(code: .kafka, detail: "ingest consumer: \(error)")
        }
        background.cancel()
        await shutDown(consumer, producer)
        if let error = failure ?? shared.failure { throw error }
    }

    /// Splits a batch by partition over the workers (a partition's records stay in order on
    /// one worker) and waits for every slice.
    private static func process(_ batch: [ConsumerRecord], with workers: [IngestWorker]) async throws(RuntimeError) {
        if workers.count == 1 {
            try await workers[0].process(batch[...])
            return
        }
        var slices = Array(repeating: [ConsumerRecord](), count: workers.count)
        for record in batch {
            let slot = Int(UInt(bitPattern: record.topicPartition.hashValue) % UInt(workers.count))
            slices[slot].append(record)
        }
        let result: RuntimeError? = await withTaskGroup(of: RuntimeError?.self) { group in
            for (worker, slice) in zip(workers, slices) where !slice.isEmpty {
                group.addTask {
                    do throws(RuntimeError) {
                        try await worker.process(slice[...])
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
        if let result { throw result }
    }

    /// Flush (acknowledgements mark offsets done), then close the consumer (final revoke,
    /// commit, leave the group), then close the producer; bounded by the shutdown timeout.
    private func shutDown(_ consumer: KafkaConsumer, _ producer: KafkaProducer) async {
        let timeout = topology.limits.shutdownTimeout
        do {
            try await producer.flush(timeout: timeout)
        } catch {
            logger.warning("ingest: records still unacknowledged at shutdown; their input stays uncommitted",
                           metadata: ["error": "\(error)"])
        }
        await consumer.close()
        await producer.close(timeout: .seconds(1))
        logger.info("ingest: stopped", metadata: ["records": "\(shared.statistics.records)",
                                                  "pending": "\(tracker.pendingTotal)"])
    }

    private func startEnrichmentRefresh() -> Task<Void, Never> {
        let geo = self.geo, tor = self.tor
        return Task.detached {
            await withTaskGroup(of: Void.self) { group in
                if let geo { group.addTask { await geo.run() } }
                if let tor { group.addTask { await tor.run() } }
            }
        }
    }

    /// Gives a first Tor download a few seconds, so the first events are judged against a
    /// list; the stage goes on without one after that (and the list arrives later).
    private func waitForTorList() async {
        guard let tor, tor.snapshot == nil else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while tor.snapshot == nil && ContinuousClock.now < deadline && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if tor.snapshot == nil { logger.warning("ingest: no Tor exit list yet; events are not marked as Tor") }
    }
}
