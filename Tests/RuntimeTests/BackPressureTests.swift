import AuditEvents
import Foundation
import KafkaIO
import KafkaIOTesting
import Runtime
import Testing

/// Bounds that bite during a run, against the real broker: consumption pauses instead of
/// memory growing, and resumes, with nothing lost or duplicated.
@Suite struct BackPressureTests {
    typealias Limits = (buffer: Int, batch: Int, inFlight: Int)

    /// Runs a stage until `done` holds (or `timeout` passes), then stops it (cancel, graceful
    /// shutdown) and returns whether `done` held and the stage's back-pressure statistics then.
    static func run(_ stage: @escaping @Sendable () async throws -> Void, timeout: Duration = .seconds(120),
                    pressure: () -> BackPressureStatistics, until done: () -> Bool) async throws -> (Bool, BackPressureStatistics) {
        let task = Task { try await stage() }
        let held = await eventually(timeout: timeout, done)
        let statistics = pressure()
        task.cancel()
        try await task.value
        return (held, statistics)
    }

    /// Produces `lines` to `topic`, then runs ingest until every record's event or dead letter is
    /// acknowledged.
    static func ingest(_ lines: [String], to topic: String, _ topology: Topology,
                       _ broker: TestBroker) async throws -> (IngestStage, done: Bool, BackPressureStatistics) {
        let producer = try testProducer(broker)
        for line in lines {
            try await producer.enqueue(ProducerRecord(topic: topic, key: nil, value: Array(line.utf8))) { _ in }
        }
        try await producer.flush(timeout: .seconds(60))
        await producer.close()
        let ingest = try IngestStage(topology: topology, logger: testLogger)
        let (done, pressure) = try await run(ingest.run, pressure: { ingest.backPressure }) {
            ingest.statistics.eventsAcknowledged + ingest.statistics.deadLettersAcknowledged >= lines.count
        }
        return (ingest, done, pressure)
    }

    /// The bound bit (consumption paused while produced records waited for room, and resumed:
    /// the caller checks everything came through) and memory stayed bounded: records held never
    /// passed the buffer, a batch and the in-flight records (a batch of slack for the sampling).
    static func expectPausedAndBounded(_ pressure: BackPressureStatistics, _ limits: Limits) {
        #expect(pressure.pauses["in_flight", default: 0] > 0, "\(pressure)")
        #expect(pressure.maxQueueDepth <= limits.buffer + 3 * limits.batch + limits.inFlight, "\(pressure)")
    }

    /// How many records of `topic` a new member of `group` reads: none once all are committed.
    static func uncommitted(_ broker: TestBroker, group: String, topic: String) async throws -> Int {
        let reader = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group), topics: [topic],
                                       logger: testLogger)
        let left = try await readAfterJoin(reader, join: .seconds(12))
        await reader.close()
        return left.count
    }

    @Test(.timeLimit(.minutes(3)))
    func aProducerWithoutRoomPausesIngestAndNothingIsLostOrDuplicated() async throws {
        try await withBroker { broker in
            let name = uniqueName("bp")
            let count = 1500
            let raw = IngestStageTests.Raw(topic: "\(name)-eks", format: .eks, lines: [])
            try await broker.createTopic(raw.topic, partitions: 2)
            let dir = try temporaryDirectory()
            // Five records in flight at most, twenty fetched records waiting at most: the
            // producer, not the fetch, sets the pace.
            let limits: Limits = (buffer: 20, batch: 10, inFlight: 5)
            let text = IngestStageTests.topology(broker.bootstrap, name: name, raws: [raw])
                .replacingOccurrences(of: "limits: {", with: "limits: {consumer_buffer: \(limits.buffer), "
                    + "max_batch: \(limits.batch), max_in_flight: \(limits.inFlight), max_record_bytes: 8192, ")
            try write(text, to: dir + "/t.yaml")
            var (topology, _) = try TopologyLoader.load(file: dir + "/t.yaml")
            #expect(topology.limits.maxInFlight == limits.inFlight)
            // One event per repartition record, so each raw record makes one produced record and
            // the producer's five always fill (a batch of ten in frames of 64 makes one or two).
            topology.topics.repartition.frameEvents = 1

            // One record over limits.max_record_bytes among them: dead-lettered and counted.
            let line = try #require(try eksDenials(0..<1, id: "bp").first)
            let oversized = line + String(repeating: " ", count: 8192)
            let (ingest, done, pressure) = try await Self.ingest(Array(repeating: line, count: count) + [oversized],
                                                                 to: raw.topic, topology, broker)
            #expect(done, "\(ingest.statistics)")
            #expect(ingest.statistics.oversized == 1 && ingest.statistics.deadLettersAcknowledged == 1)
            Self.expectPausedAndBounded(pressure, limits)
            #expect(ingest.statistics.records == count + 1)

            // Nothing lost or duplicated: each raw offset once on the repartition topic...
            // (Read to the count of events: a duplicate would take a missing event's place in it.)
            let records = try await readRepartitioned(topology.topics.repartition.name, broker, events: count,
                                                      timeout: .seconds(20))
            let decoder = try RepartitionDecoder()
            let origins = records.flatMap { r -> [String] in
                decoder.decodeAll(r).compactMap { $0.event.map { "\($0.origin.partition)@\($0.origin.offset)" } }
            }
            #expect(origins.count == count)
            #expect(Set(origins).count == count)
            // ...and every raw offset committed: the group has nothing left to read.
            #expect(try await Self.uncommitted(broker, group: topology.kafka.ingestGroup, topic: raw.topic) == 0)
        }
    }

    /// Detect with a backlog and an alerts topic that takes three records at a time (one alert
    /// per event): it pauses, every alert arrives once, and its input is committed.
    @Test(.timeLimit(.minutes(3)))
    func aSlowAlertsTopicPausesDetectAndEveryAlertArrivesOnce() async throws {
        try await withBroker { broker in
            let count = 300
            let limits: Limits = (buffer: 20, batch: 10, inFlight: 3)
            var (topic, _, topology, rules) = try await ReloadTests.setUp(broker, limits:
                "consumer_buffer: \(limits.buffer), max_batch: \(limits.batch), max_in_flight: \(limits.inFlight), ")
            // One event per repartition record: 300 records, more than the consumer buffer holds
            // (in frames of 64 the backlog is 5 records, which never fill it: detect then waits
            // for room inside its batch, bounded by max_in_flight, and need not pause).
            topology.topics.repartition.frameEvents = 1
            // The backlog on the repartition topic first, then detect alone drains it.
            let lines = try (0..<count / 60).flatMap { try eksDenials(0..<60, id: "slow\($0)") }
            let (ingest, ingested, _) = try await Self.ingest(lines, to: topic, topology, broker)
            #expect(ingested, "\(ingest.statistics)")

            let detect = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let (done, pressure) = try await Self.run(detect.run, pressure: { detect.backPressure }) {
                detect.statistics.alertsAcknowledged >= count
            }
            #expect(done, "\(detect.statistics)")
            Self.expectPausedAndBounded(pressure, limits)

            let alerts = try await readTopic(topology.topics.alerts.name, broker, count: count, timeout: .seconds(20))
            let ids = alerts.compactMap { $0.header("vigil-alert-id").map { String(decoding: $0, as: UTF8.self) } }
            #expect(ids.count == count && Set(ids).count == count)
            #expect(try await Self.uncommitted(broker, group: topology.kafka.detectGroup,
                                               topic: topology.topics.repartition.name) == 0)
        }
    }
}
