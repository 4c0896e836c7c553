import AuditEvents
import Foundation
import KafkaIO
import KafkaIOTesting
import Runtime
import Testing

/// Bounds that bite during a run, against the real broker: consumption pauses instead of
/// memory growing, and resumes, with nothing lost or duplicated.
@Suite struct BackPressureTests {
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
            let limits = (buffer: 20, batch: 10, inFlight: 5)
            let text = IngestStageTests.topology(broker.bootstrap, name: name, raws: [raw])
                .replacingOccurrences(of: "limits: {", with: "limits: {consumer_buffer: \(limits.buffer), "
                    + "max_batch: \(limits.batch), max_in_flight: \(limits.inFlight), ")
            try write(text, to: dir + "/t.yaml")
            let (topology, _) = try TopologyLoader.load(file: dir + "/t.yaml")
            #expect(topology.limits.maxInFlight == limits.inFlight)

            let producer = try testProducer(broker)
            let line = try #require(try eksDenials(0..<1, id: "bp").first)
            for i in 0..<count {
                try await producer.enqueue(ProducerRecord(topic: raw.topic, key: Array("k\(i)".utf8), value: Array(line.utf8))) { _ in }
            }
            try await producer.flush(timeout: .seconds(60))
            await producer.close()

            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let run = Task { try await ingest.run() }
            let done = await eventually(timeout: .seconds(120)) { ingest.statistics.eventsAcknowledged >= count }
            let pressure = ingest.backPressure
            run.cancel()
            try await run.value
            #expect(done, "\(ingest.statistics)")

            // The bound bit, and the stage paused (and resumed: everything came through).
            #expect(pressure.pauses["in_flight", default: 0] > 0, "\(pressure)")
            // Memory stays bounded: records held never passed the buffer, a batch and the
            // in-flight records (a batch of slack for the sampling moment).
            let bound = limits.buffer + 3 * limits.batch + limits.inFlight
            #expect(pressure.maxQueueDepth <= bound, "\(pressure)")
            #expect(ingest.statistics.records == count)

            // Nothing lost or duplicated: each raw offset once on the repartition topic...
            // (Read to the count: a duplicate would take a missing record's place in it.)
            let records = try await readTopic(topology.topics.repartition.name, broker, count: count,
                                              timeout: .seconds(20))
            let origins = records.compactMap { r -> String? in
                guard let p = r.header("vigil-source-partition"), let o = r.header("vigil-source-offset") else { return nil }
                return String(decoding: p, as: UTF8.self) + "@" + String(decoding: o, as: UTF8.self)
            }
            #expect(origins.count == count)
            #expect(Set(origins).count == count)
            // ...and every raw offset committed: the group has nothing left to read.
            let reader = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: topology.kafka.ingestGroup),
                                           topics: [raw.topic], logger: testLogger)
            let left = try await readAfterJoin(reader, join: .seconds(12))
            await reader.close()
            #expect(left.isEmpty, "\(left.count) raw records uncommitted")
        }
    }

    /// Detect with a backlog and an alerts topic that takes three records at a time (one alert
    /// per event): it pauses, every alert arrives once, and its input is committed.
    @Test(.timeLimit(.minutes(3)))
    func aSlowAlertsTopicPausesDetectAndEveryAlertArrivesOnce() async throws {
        try await withBroker { broker in
            let count = 300
            let limits = (buffer: 20, batch: 10, inFlight: 3)
            let (topic, _, topology, rules) = try await ReloadTests.setUp(broker, limits:
                "consumer_buffer: \(limits.buffer), max_batch: \(limits.batch), max_in_flight: \(limits.inFlight), ")
            let producer = try testProducer(broker)
            for line in try (0..<count / 60).flatMap({ try eksDenials(0..<60, id: "slow\($0)") }) {
                try await producer.enqueue(ProducerRecord(topic: topic, key: nil, value: Array(line.utf8))) { _ in }
            }
            try await producer.flush(timeout: .seconds(60))
            await producer.close()
            // The backlog on the repartition topic first, then detect alone drains it.
            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let runIngest = Task { try await ingest.run() }
            let ingested = await eventually(timeout: .seconds(90)) { ingest.statistics.eventsAcknowledged >= count }
            runIngest.cancel()
            try await runIngest.value
            #expect(ingested, "\(ingest.statistics)")

            let detect = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runDetect = Task { try await detect.run() }
            let done = await eventually(timeout: .seconds(90)) { detect.statistics.alertsAcknowledged >= count }
            let pressure = detect.backPressure
            runDetect.cancel()
            try await runDetect.value
            #expect(done, "\(detect.statistics)")
            #expect(pressure.pauses["in_flight", default: 0] > 0, "\(pressure)")
            #expect(pressure.maxQueueDepth <= limits.buffer + 3 * limits.batch + limits.inFlight, "\(pressure)")

            let alerts = try await readTopic(topology.topics.alerts.name, broker, count: count, timeout: .seconds(20))
            let ids = alerts.compactMap { $0.header("vigil-alert-id").map { String(decoding: $0, as: UTF8.self) } }
            #expect(ids.count == count && Set(ids).count == count)
            let reader = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: topology.kafka.detectGroup),
                                           topics: [topology.topics.repartition.name], logger: testLogger)
            let left = try await readAfterJoin(reader, join: .seconds(12))
            await reader.close()
            #expect(left.isEmpty, "\(left.count) repartition records uncommitted")
        }
    }
}
