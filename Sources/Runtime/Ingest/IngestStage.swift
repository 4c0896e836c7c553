import AuditEvents
import Enrichment
import Foundation
import KafkaIO
import Logging

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
    private let monitor = BackPressureMonitor(stage: "ingest")
    /// The GeoIP database in use (reloaded when its file changes) and the Tor exit list.
    public let geo: GeoLocator?
    public let tor: TorExitList?
    let enrichmentMetrics = EnrichmentMetrics()
    /// Which log types' events carry their JSON documents (rules reading raw paths).
    let documents: DocumentPolicy
    /// Where the stage is (for `/ready` and `/health`).
    public let status: StageStatus

    /// Opens the enrichment data (GeoIP file, saved Tor list); connects to nothing yet.
    public init(topology: Topology, logger: Logger) throws(RuntimeError) {
        self.topology = topology
        self.logger = logger
        status = StageStatus(name: "ingest", stuckAfter: topology.kafka.maxPollInterval)
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
        documents = DocumentPolicy(directory: topology.rulesDirectory, logger: logger)
    }

    /// Counts so far.
    /// What the stage's bounds did: queue depth, paused partitions, pauses by reason.
    public var backPressure: BackPressureStatistics { monitor.statistics }

    public var statistics: IngestStatistics { shared.statistics }

    /// Creates Vigil's topics when missing (if the topology says so), then consumes until
    /// the calling task is cancelled; then stops fetching, flushes the producer, commits
    /// and leaves the group, each step bounded by `limits.shutdown_timeout`. Throws on an
    /// infrastructure failure (a record the broker would not take), after the same shutdown.
    public func run() async throws(RuntimeError) {
        try await status.track { () async throws(RuntimeError) in try await runStage() }
    }

    private func runStage() async throws(RuntimeError) {
        let t = topology
        if t.topics.create { try await TopicSetup.ensure(t, logger: logger) }
        let background = startEnrichmentRefresh()
        defer { background.cancel() }
        await waitForTorList()
        let loop = StageLoop(stage: .ingest, topology: t, topics: t.sources.map(\.topic),
                             tracker: tracker, logger: logger, status: status, failure: { [shared] in shared.failure }, recover: { [shared] in shared.recover() },
                             monitor: monitor)
        let enricher = Enricher(geo: geo, tor: tor)
        // Frames are placed, and gap notices sent, among the partitions the topic has (read once,
        // at start; with `frame_events: 1` the producer's partitioner places each record itself).
        let partitions = t.topics.repartition.frameEvents > 1
            ? await TopicSetup.partitions(of: t.topics.repartition.name, t, logger: logger) : nil
        try await loop.run { [tracker, shared, documents] (consumer, producer) throws(RuntimeError) in
            var workers: [IngestWorker] = []
            for _ in 0..<t.workers.ingest {
                workers.append(try IngestWorker(topology: t, enricher: enricher, documents: documents, shared: shared,
                                                partitions: partitions))
            }
            return IngestProcessor(workers: workers, tracker: tracker, producer: producer, consumer: consumer, shared: shared,
                                   repartition: t.topics.repartition, partitions: partitions ?? t.topics.repartition.partitions,
                                   timeout: t.limits.shutdownTimeout, logger: logger)
        }
    }

    /// Reloads the enrichment data now (SIGHUP): the GeoIP file is opened again and swapped in
    /// when it is a usable database (else refused, counted, the one in use kept); the Tor list is
    /// fetched again (a failed fetch keeps the last good list). Between SIGHUPs the GeoIP file is
    /// checked every `enrichment.geoip.reload_check` and the Tor list refreshed every
    /// `enrichment.tor.interval`. Events enriched from then on carry the new data versions.
    /// The rules folder is read again too: which log types' JSON documents travel (``DocumentPolicy``).
    public func reload() async -> (geoIP: GeoLocator.ReloadOutcome?, tor: TorExitList.RefreshOutcome?) {
        documents.refresh(force: true)
        var geoOutcome: GeoLocator.ReloadOutcome?
        if let geo {
            // Through the watch first, so a change it had not seen yet is not reloaded twice.
            geoOutcome = geo.reloadIfChanged()
            if geoOutcome == .unchanged { geoOutcome = geo.reload() }
        }
        let torOutcome = await tor?.refresh()
        return (geoOutcome, torOutcome)
    }

    private func startEnrichmentRefresh() -> Task<Void, Never> {
        let geo = self.geo, tor = self.tor, documents = self.documents, check = topology.rulesReloadCheck
        return Task.detached {
            await withTaskGroup(of: Void.self) { group in
                if let geo { group.addTask { await geo.run() } }
                if let tor { group.addTask { await tor.run() } }
                group.addTask { await documents.run(every: check) }
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

extension IngestStage {
    /// Brings the enrichment metrics read off the GeoIP cache and the Tor list up to date;
    /// `/metrics` calls it before each scrape.
    public func sampleMetrics() {
        enrichmentMetrics.sample(geo: geo, tor: tor)
    }
}
