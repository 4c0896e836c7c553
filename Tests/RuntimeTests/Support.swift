import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import KafkaIOTesting
import Logging
import Runtime
import Testing


/// The lines of a fixture file (blank lines dropped).
func fixtureLines(_ name: String) throws -> [String] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
    return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
}

/// A fresh temporary folder.
func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-runtime-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

/// A producer of test input to the broker (default settings).
func testProducer(_ broker: TestBroker) throws -> KafkaProducer {
    try KafkaProducer(settings: ProducerSettings(client: ClientSettings(bootstrapServers: [broker.bootstrap])), logger: testLogger)
}

/// Reads a topic from the start in a fresh group: up to `count` records within `timeout`.
func readTopic(_ topic: String, _ broker: TestBroker, count: Int, timeout: Duration = .seconds(30)) async throws -> [ConsumerRecord] {
    try await readTopic(topic, [broker.bootstrap], count: count, timeout: timeout)
}

/// The same from any brokers (librdkafka's mock cluster: pass `properties` with librdkafka's
/// default metadata refresh there, see `mockClusterReader`).
func readTopic(_ topic: String, _ servers: [String], count: Int, timeout: Duration = .seconds(30),
               properties: [String: String] = [:]) async throws -> [ConsumerRecord] {
    let reader = try KafkaConsumer(settings: testConsumerSettings(servers, group: uniqueName("check"), properties: properties),
                                   topics: [topic], logger: testLogger)
    let records = try await collect(reader, count: count, timeout: timeout)
    await reader.close()
    return records
}

/// The repartition topic's records until they carry `events` events (a frame carries several),
/// or `timeout` passes.
func readRepartitioned(_ topic: String, _ broker: TestBroker, events: Int,
                       timeout: Duration = .seconds(30)) async throws -> [ConsumerRecord] {
    let reader = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: uniqueName("check")),
                                   topics: [topic], logger: testLogger)
    let records = try await collect(reader, timeout: timeout) { $0.reduce(0) { $0 + eventCount($1) } >= events }
    await reader.close()
    return records
}

/// The events a repartition record carries (a frame's entries; else one).
func eventCount(_ record: ConsumerRecord) -> Int {
    record.value.flatMap { RepartitionFrame.entries($0)?.count } ?? 1
}

/// A reader on librdkafka's mock cluster keeps librdkafka's default metadata refresh: a refresh
/// landing while the mock coordinator's slow JoinGroup waits for metadata makes the member join
/// again, round after round (Sources/KafkaIO/README.md), and the reader gets nothing.
let mockClusterReader = ["topic.metadata.refresh.interval.ms": "300000"]

/// What a member of `group` reads from `topics` once it has joined (``readAfterJoin(_:join:settle:)``).
func readAfterJoin(_ broker: TestBroker, group: String, topics: [String]) async throws -> [ConsumerRecord] {
    let consumer = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group), topics: topics,
                                     logger: testLogger)
    let records = try await readAfterJoin(consumer)
    await consumer.close()
    return records
}

/// `count` copies of the EKS fixture event, one second apart from 14:45:00, with ids
/// `<id>-<i>`: 403s from one public IP (the 403 thresholds fire at ten).
func eksDenials(_ range: Range<Int>, id: String) throws -> [String] {
    try range.map { i in try eksDenial(second: i, auditID: "\(id)-\(i)") }
}

extension IngestStageTests.Raw {
    /// The decoder ingest uses for this raw topic.
    func decoder(_ topology: Topology) throws -> AuditRecordDecoder {
        try AuditRecordDecoder(format: format, options: topology.decoderOptions(for: try #require(topology.source(forTopic: topic))))
    }
}

/// What a group member reads once it has joined: waits up to `join` for the first record,
/// then `settle` more for anything after it (a re-read after a bad commit would show there).
func readAfterJoin(_ consumer: KafkaConsumer, join: Duration = .seconds(30),
                   settle: Duration = .seconds(3)) async throws -> [ConsumerRecord] {
    let first = try await collect(consumer, count: 1, timeout: join)
    guard !first.isEmpty else { return [] }
    return first + (try await collect(consumer, count: 10_000, timeout: settle))
}

/// One uninterrupted engine over raw lines, enriched as ingest does: the alerts a run of the
/// stages must reproduce (same ids).
struct ReferenceRun {
    var engine: DetectionEngine
    let enricher: Enricher

    init(_ topology: Topology, rules: [Rule]) async throws {
        enricher = try await IngestStageTests.enricher(topology)
        engine = DetectionEngine(rules: rules, settings: EngineSettings(allowedLateness: 600,
                                                                        maxKeysPerRule: topology.limits.maxKeysPerRule))
    }

    /// The alerts an uninterrupted run raises over `raw`'s lines (partition 0, offsets from 0).
    static func alerts(_ raw: IngestStageTests.Raw, _ topology: Topology, rules: [Rule]) async throws -> [Alert] {
        var run = try await ReferenceRun(topology, rules: rules)
        let decoder = try raw.decoder(topology)
        var alerts: [Alert] = []
        for (i, line) in raw.lines.enumerated() {
            alerts += run.process(line, decoder: decoder, topic: raw.topic, partition: 0, offset: Int64(i))
        }
        return alerts
    }

    /// The alerts the raw line at (topic, partition, offset) completes.
    mutating func process(_ line: String, decoder: AuditRecordDecoder, topic: String, partition: Int32, offset: Int64) -> [Alert] {
        var alerts: [Alert] = []
        for event in decoder.decode(line).compactMap(\.event) {
            let enrichment = enricher.enrich(sourceIPs: event.sourceIPs, at: event.time?.date)
            alerts += engine.process(event, enrichment: enrichment, origin: .kafka(topic: topic, partition: partition, offset: offset))
        }
        return alerts
    }
}
