import AuditEvents
import Enrichment
import Foundation
import KafkaIO
import KafkaIOTesting
import Runtime
import Testing

/// The ingest stage end to end against the real broker: raw topics in, repartition and
/// dead-letter topics out, offsets committed.
@Suite struct IngestStageTests {
    struct Raw {
        let topic: String
        let format: SourceFormat
        let lines: [String]
    }

    /// Ingest's decoders parse consumed records where they lie only if the
    /// consumer leaves the decoder's padding past each value.
    @Test func consumedValuesHaveTheRoomTheDecoderParsesInPlace() {
        #expect(ConsumerRecord.valueSpareCapacity >= AuditRecordDecoder.recordPadding)
    }

    @Test(.timeLimit(.minutes(3)))
    func rawRecordsAreRepartitionedBySourceIPAndBadOnesDeadLettered() async throws {
        try await withBroker { broker in
            let name = uniqueName("t")
            let raws = [
                Raw(topic: "\(name)-eks", format: .eks,
                    lines: try fixtureLines("eks-event.jsonl") + fixtureLines("eks-cloudwatch.jsonl") + ["{not json"]),
                Raw(topic: "\(name)-aks", format: .aks,
                    lines: try fixtureLines("aks-records.jsonl") + fixtureLines("aks-dynatrace.jsonl")
                        + fixtureLines("aks-eventhubs-batch.jsonl")),
                Raw(topic: "\(name)-gke", format: .gke, lines: try fixtureLines("gke-entries.jsonl")),
                Raw(topic: "\(name)-proc", format: .process, lines: try fixtureLines("process-events.jsonl")),
            ]
            for raw in raws { try await broker.createTopic(raw.topic, partitions: 2) }
            let dir = try temporaryDirectory()
            let topologyFile = dir + "/topology.yaml"
            try write(Self.topology(broker.bootstrap, name: name, raws: raws), to: topologyFile)
            let (topology, _) = try TopologyLoader.load(file: topologyFile)

            // What ingest should make of the records, decoded here the same way.
            var expectedEvents: [AuditEvent] = []
            var expectedDeadLetters = 0, expectedSkipped = 0
            for raw in raws {
                let decoder = try raw.decoder(topology)
                for line in raw.lines {
                    for outcome in decoder.decode(line) {
                        switch outcome {
                        case .decoded(let e): expectedEvents.append(e)
                        case .deadLetter: expectedDeadLetters += 1
                        case .skipped: expectedSkipped += 1
                        }
                    }
                }
            }
            #expect(expectedEvents.count >= 15 && expectedSkipped >= 2 && expectedDeadLetters >= 1)

            // Produce the raw records (round-robin partitions); remember the malformed one's offset.
            let producer = try testProducer(broker)
            var malformed: DeliveryReport?
            var rawCount = 0
            for raw in raws {
                for (i, line) in raw.lines.enumerated() {
                    let report = try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(line.utf8),
                                                                        headers: [KafkaHeader(key: "shipper", string: "test")],
                                                                        partition: Int32(i % 2)))
                    if line == "{not json" { malformed = report }
                    rawCount += 1
                }
            }

            // Run the stage until everything is acknowledged, then stop it as SIGTERM would.
            let stage = try IngestStage(topology: topology, logger: testLogger)
            let run = Task { try await stage.run() }
            let done = await eventually(timeout: .seconds(60)) {
                let s = stage.statistics
                return s.records == rawCount && s.eventsAcknowledged == expectedEvents.count
                    && s.deadLettersAcknowledged == expectedDeadLetters
            }
            run.cancel()
            try await run.value
            let stats = stage.statistics
            #expect(done, "\(stats)")
            #expect(stats.skipped == expectedSkipped && stats.deliveryFailures == 0)

            // The repartition topic: frames of events keyed by source IP (container id), each on
            // the partition the producer's partitioner gives its key; the events decode back.
            let repartitioned = try await readRepartitioned(topology.topics.repartition.name, broker, events: expectedEvents.count)
            #expect(repartitioned.reduce(0) { $0 + eventCount($1) } == expectedEvents.count)
            #expect(repartitioned.count < expectedEvents.count, "events travel in frames")
            let enricher = try await Self.enricher(topology)
            let decoder = try RepartitionDecoder()
            // The seed rules read no raw JSON path: the records carry no documents.
            var remaining = expectedEvents.map(\.withoutDocuments)
            for record in repartitioned {
                let value = try #require(record.value)
                let entries = try #require(RepartitionFrame.entries(value))
                #expect(record.key == nil)
                for entry in entries {
                    let back = try #require(decoder.decode(record, entry: entry).event)
                    let key = entry.key.map { String(decoding: value[$0], as: UTF8.self) }
                    #expect(key == RepartitionCodec.key(for: back.event))
                    if back.event.logType != .ecsProcess { #expect(key == back.event.sourceIP) }
                    if let key {
                        #expect(record.partition == KafkaPartitioner.murmur2(key, partitions: Int32(topology.topics.repartition.partitions)))
                    }
                    guard let at = remaining.firstIndex(of: back.event) else {
                        Issue.record("unexpected event \(back.event.jsonLine())")
                        continue
                    }
                    remaining.remove(at: at)
                    let expected = enricher.enrich(sourceIPs: back.event.sourceIPs,
                                                   at: back.event.time.map { Date(timeIntervalSince1970: Double($0.seconds)) })
                    #expect(back.enrichment.geo == expected.geo)
                    #expect(back.enrichment.torExitIPs == expected.torExitIPs)
                    #expect(back.enrichment.geoDatabaseType == "GeoLite2-City" && back.enrichment.torListTime != nil)
                    #expect(raws.contains { $0.topic == back.origin.topic })
                }
            }
            #expect(remaining.isEmpty, "not repartitioned: \(remaining.map { $0.jsonLine() })")
            // At least one fixture IP is public and located, so geo really travelled.
            #expect(repartitioned.contains { decoder.decodeAll($0).contains { $0.event?.enrichment.geo?.city != nil } })
            #expect(repartitioned.allSatisfy { $0.headers.isEmpty })

            // The dead-letter topic: original bytes and headers, reason and source position.
            let dead = try await readTopic(topology.topics.deadLetter.name, broker, count: expectedDeadLetters)
            let bad = try #require(dead.first { $0.value == Array("{not json".utf8) })
            func header(_ key: String) -> String? { bad.header(key).map { String(decoding: $0, as: UTF8.self) } }
            let report = try #require(malformed)
            #expect(header("vigil-dlq-reason") == "malformed_json")
            #expect(header("vigil-source-topic") == report.topic)
            #expect(header("vigil-source-partition") == String(report.partition))
            #expect(header("vigil-source-offset") == String(report.offset))
            #expect(header("shipper") == "test")

            // Committed offsets cover everything: the group resumes after the last record.
            let extra = try await producer.send(ProducerRecord(topic: raws[2].topic, key: nil, value: Array("{}".utf8)))
            await producer.close()
            let again = try await readAfterJoin(broker, group: topology.kafka.ingestGroup, topics: raws.map(\.topic))
            #expect(again.map(\.offset) == [extra.offset] && again.first?.topic == extra.topic,
                    "re-read after commit: \(again.map { "\($0.topic)@\($0.offset)" })")
        }
    }

    /// Batches are encoded in parts on both ingest workers (a fetch brings one partition at a
    /// time), yet a raw partition's events reach the repartition topic in offset order: per-key
    /// order is what the detect stage's idempotent state and every stateful rule rely on.
    @Test(.timeLimit(.minutes(3)))
    func aPartitionsEventsAreRepartitionedInOffsetOrder() async throws {
        try await withBroker { broker in
            let name = uniqueName("order")
            let raw = Raw(topic: "\(name)-eks", format: .eks, lines: try fixtureLines("eks-event.jsonl"))
            try await broker.createTopic(raw.topic, partitions: 1)
            let dir = try temporaryDirectory()
            let topologyFile = dir + "/topology.yaml"
            try write(Self.topology(broker.bootstrap, name: name, raws: [raw]), to: topologyFile)
            let (topology, _) = try TopologyLoader.load(file: topologyFile)
            #expect(topology.workers.ingest == 2)

            // 600 events of one source IP (one key), produced before the stage starts, so its
            // batches are large: several parts each.
            let count = 600
            let producer = try testProducer(broker)
            for _ in 0..<count {
                _ = try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(raw.lines[0].utf8), partition: 0))
            }
            await producer.close()
            let stage = try IngestStage(topology: topology, logger: testLogger)
            let run = Task { try await stage.run() }
            let done = await eventually(timeout: .seconds(60)) { stage.statistics.eventsAcknowledged == count }
            run.cancel()
            try await run.value
            #expect(done, "\(stage.statistics)")

            let repartitioned = try await readRepartitioned(topology.topics.repartition.name, broker, events: count)
            let decoder = try RepartitionDecoder()
            let partitions = Set(repartitioned.map(\.partition))
            #expect(partitions.count == 1, "one key, one partition: \(partitions)")
            let offsets = repartitioned.sorted { $0.offset < $1.offset }
                .flatMap { decoder.decodeAll($0).compactMap { $0.event?.origin.offset } }
            let firstDifference = offsets.indices.first { offsets[$0] != Int64($0) }
            #expect(offsets.count == count && firstDifference == nil,
                    "raw offsets out of order from position \(firstDifference ?? -1): \(offsets.dropFirst(max(0, (firstDifference ?? 0) - 3)).prefix(8))")
        }
    }

    /// No `frame_events` (1: a rolling upgrade whose detect stage predates frames): each event is a
    /// version-2 record of its own, keyed by its source IP and placed by the producer's
    /// partitioner, on the same partition a frame would have put it.
    @Test(.timeLimit(.minutes(3)))
    func withoutFrameEventsEachEventIsAVersion2RecordOfItsOwn() async throws {
        try await withBroker { broker in
            let name = uniqueName("v")
            let raw = Raw(topic: "\(name)-gke", format: .gke, lines: try fixtureLines("gke-entries.jsonl"))
            try await broker.createTopic(raw.topic, partitions: 1)
            let dir = try temporaryDirectory()
            let text = Self.topology(broker.bootstrap, name: name, raws: [raw])
                .replacingOccurrences(of: "repartition: {name: \(name).events, partitions: 4, frame_events: 64}",
                                      with: "repartition: {name: \(name).events, partitions: 4}")
            #expect(!text.contains("frame_events"), "absent: one event per record")
            try write(text, to: dir + "/t.yaml")
            let (topology, _) = try TopologyLoader.load(file: dir + "/t.yaml")
            #expect(topology.topics.repartition.frameEvents == 1)
            let decoder = try raw.decoder(topology)
            let expected = raw.lines.flatMap { decoder.decode($0).compactMap(\.event) }
            let producer = try testProducer(broker)
            for line in raw.lines {
                try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(line.utf8), partition: 0))
            }
            await producer.close()
            let stage = try IngestStage(topology: topology, logger: testLogger)
            let run = Task { try await stage.run() }
            let done = await eventually(timeout: .seconds(60)) { stage.statistics.eventsAcknowledged == expected.count }
            run.cancel()
            try await run.value
            #expect(done, "\(stage.statistics)")
            #expect(stage.statistics.repartitionRecordsAcknowledged == expected.count)

            let records = try await readTopic(topology.topics.repartition.name, broker, count: expected.count)
            #expect(records.count == expected.count)
            let repartition = try RepartitionDecoder()
            for record in records {
                #expect(!RepartitionFrame.isFrame(record.value))
                let back = try #require(repartition.decode(record).event)
                let key = try #require(record.key.map { String(decoding: $0, as: UTF8.self) })
                #expect(key == back.event.sourceIP)
                #expect(record.partition == KafkaPartitioner.murmur2(key, partitions: 4))
            }
        }
    }

    /// A second member joins mid-stream: the first one's revoke finishes its in-flight records
    /// before the partitions move, so no event is lost (duplicates are allowed) and the
    /// group's committed offsets end after the last record.
    @Test(.timeLimit(.minutes(3)))
    func aMemberJoiningMidStreamLosesNothing() async throws {
        try await withBroker { broker in
            let name = uniqueName("r")
            let raw = Raw(topic: "\(name)-gke", format: .gke, lines: [])
            try await broker.createTopic(raw.topic, partitions: 4)
            let dir = try temporaryDirectory()
            try write(Self.topology(broker.bootstrap, name: name, raws: [raw]), to: dir + "/t.yaml")
            let (topology, _) = try TopologyLoader.load(file: dir + "/t.yaml")
            let lines = try fixtureLines("gke-entries.jsonl")
            let producer = try testProducer(broker)
            func produce(_ count: Int, from start: Int) async throws {
                for i in start..<(start + count) {
                    try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(lines[i % lines.count].utf8),
                                                           partition: Int32(i % 4)))
                }
            }
            let first = try IngestStage(topology: topology, logger: testLogger)
            let runFirst = Task { try await first.run() }
            try await produce(200, from: 0)
            _ = await eventually { first.statistics.records > 0 }
            let second = try IngestStage(topology: topology, logger: testLogger)
            let runSecond = Task { try await second.run() }
            try await produce(200, from: 200)
            let gke = try AuditRecordDecoder(format: .gke)
            let perLine = lines.map { gke.decode($0).filter { $0.event != nil }.count }
            let expectedOrigins = (0..<400).reduce(0) { $0 + perLine[$1 % lines.count] }
            let all = await eventually(timeout: .seconds(60)) {
                let a = first.statistics, b = second.statistics
                return a.records + b.records >= 400 && a.events == a.eventsAcknowledged && b.events == b.eventsAcknowledged
            }
            runFirst.cancel()
            runSecond.cancel()
            try await runFirst.value
            try await runSecond.value
            #expect(all, "first \(first.statistics), second \(second.statistics)")

            let records = try await readTopic(topology.topics.repartition.name, broker, count: 1_000, timeout: .seconds(12))
            let decoder = try RepartitionDecoder()
            let origins = Set(records.flatMap { decoder.decodeAll($0).compactMap { $0.event?.origin } })
            #expect(origins.count == expectedOrigins && expectedOrigins >= 400,
                    "distinct events repartitioned: \(origins.count) of \(expectedOrigins) (\(records.count) records)")

            await producer.close()
            // Every record is committed: the group resumes after the last one on each partition.
            // Read from the group's commits, not by joining it: a consumer joining right after both
            // members left sometimes got no assignment within 30 s on a busy machine (Tansu's join
            // hold and librdkafka's metadata-triggered rejoins), which said nothing about ingest.
            let admin = try KafkaAdmin(settings: ClientSettings(bootstrapServers: [broker.bootstrap]), logger: testLogger)
            let partitions = (0..<4).map { TopicPartition(raw.topic, Int32($0)) }
            let committed = try await admin.committedOffsets(group: topology.kafka.ingestGroup, partitions: partitions)
            #expect(partitions.map { committed[$0] } == Array(repeating: 100, count: 4), "committed: \(committed)")
        }
    }

    static func topology(_ bootstrap: String, name: String, raws: [Raw]) -> String {
        testTopology(bootstrap, name: name, sources: raws.map {
            "{topic: \($0.topic), format: \($0.format.rawValue)\($0.format == .eks ? ", cluster: prod-eks" : "")}"
        })
    }

    /// The same enrichment data the stage uses, to check what it attached.
    static func enricher(_ t: Topology) async throws -> Enricher {
        let geo = try GeoLocator(configuration: try #require(t.enrichment.geoIP).locatorConfiguration)
        let tor = TorExitList(configuration: try #require(t.enrichment.tor).listConfiguration)
        await tor.refresh()
        return Enricher(geo: geo, tor: tor)
    }
}
