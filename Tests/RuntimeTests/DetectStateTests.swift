import AuditEvents
import Detection
import Foundation
import KafkaIO
import KafkaIOTesting
import Runtime
import Testing

/// Durable detect state against the real broker: the changelog written per batch and read
/// back on assignment.
@Suite struct DetectStateTests {
    /// `count` 403s from one public IP, one second apart (the 403 thresholds fire at ten).
    static func denials(_ range: Range<Int>) throws -> [String] {
        try eksDenials(range, id: "denial")
    }

    /// The raw topic (one partition) and the test topology, with a longer poll interval: the
    /// restore runs while the consumer's poll thread waits.
    /// `commitInterval` is also how often a partition's state is diffed into the changelog.
    static func setUp(_ broker: TestBroker, name: String, raw: IngestStageTests.Raw,
                      commitInterval: String = "1s") async throws -> (Topology, [Rule]) {
        try await broker.createTopic(raw.topic, partitions: 1)
        let dir = try temporaryDirectory()
        let text = IngestStageTests.topology(broker.bootstrap, name: name, raws: [raw])
            .replacingOccurrences(of: "max_poll_interval: 7s", with: "max_poll_interval: 30s")
            .replacingOccurrences(of: "commit_interval: 1s", with: "commit_interval: \(commitInterval)")
        try write(text, to: dir + "/t.yaml")
        return try TopologyLoader.load(file: dir + "/t.yaml")
    }

    /// A raw topic (one partition) of ten denials from one public IP, and the test topology.
    static func tenDenials(_ broker: TestBroker, _ prefix: String,
                           commitInterval: String = "1s") async throws -> (IngestStageTests.Raw, Topology, [Rule]) {
        let name = uniqueName(prefix)
        let raw = IngestStageTests.Raw(topic: "\(name)-eks", format: .eks, lines: try denials(0..<10))
        let (topology, rules) = try await setUp(broker, name: name, raw: raw, commitInterval: commitInterval)
        return (raw, topology, rules)
    }

    /// Every alert id on the alerts topic (read until nothing more comes).
    static func alertIDs(_ broker: TestBroker, _ topology: Topology) async throws -> [String] {
        let records = try await readAfterJoin(broker, group: uniqueName("alerts"), topics: [topology.topics.alerts.name])
        return records.compactMap { $0.header("vigil-alert-id").map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Nine denials, the detect stage stopped and started again, the tenth: exactly the
    /// threshold alerts of an uninterrupted run (same ids), from state read back from the
    /// changelog; the changelog holds one record per state key (plus the clock).
    @Test(.timeLimit(.minutes(4)))
    func thresholdStateSurvivesARestartOfTheDetectStage() async throws {
        try await withBroker { broker in
            let (raw, topology, rules) = try await Self.tenDenials(broker, "s", commitInterval: "5s")
            let lines = raw.lines

            // The uninterrupted run, in one engine.
            let producer = try testProducer(broker)
            var reference = try await ReferenceRun(topology, rules: rules)
            let decoder = try raw.decoder(topology)
            var expected: [Alert] = []
            var reports: [DeliveryReport] = []
            for (i, line) in lines.enumerated() {
                expected += reference.process(line, decoder: decoder, topic: raw.topic, partition: 0, offset: Int64(i))
            }
            let thresholdRules: Set = ["Kubernetes.API.Multiple403.PublicIP", "Amazon.EKS.Audit.Multiple403"]
            #expect(Set(expected.map(\.ruleID)) == thresholdRules, "\(expected.map(\.ruleID))")
            #expect(expected.count == 2)

            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let runIngest = Task { try await ingest.run() }
            // First life: nine denials, no alert; the state goes to the changelog: diffed at the
            // first batch, then (the rest within the 5 s commit interval) at the revoke on stop.
            let first = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runFirst = Task { try await first.run() }
            for (i, line) in lines[0..<9].enumerated() {
                if i == 5 { _ = await eventually(timeout: .seconds(60)) { first.statistics.records == 5 } }
                reports.append(try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(line.utf8), partition: 0)))
            }
            let nine = await eventually(timeout: .seconds(60)) {
                first.statistics.records == 9 && first.statistics.changelogRecords > 0
            }
            #expect(reports.map(\.offset) == Array(0..<9))
            #expect(first.statistics.changelogDeferred > 0, "the later records waited for a diff: \(first.statistics)")
            runFirst.cancel()
            try await runFirst.value
            #expect(nine, "\(first.statistics)")
            #expect(first.statistics.alerts == 0)
            #expect(first.statistics.partitionsRestored == topology.topics.repartition.partitions)
            #expect(first.statistics.entriesRestored == 0)

            // The tenth, then a second life that resumes after the committed nine.
            try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(lines[9].utf8), partition: 0))
            await producer.close()
            let second = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runSecond = Task { try await second.run() }
            let fired = await eventually(timeout: .seconds(60)) { second.statistics.alertsAcknowledged >= 2 }
            runSecond.cancel()
            runIngest.cancel()
            try await runSecond.value
            try await runIngest.value
            #expect(fired, "\(second.statistics)")
            #expect(second.statistics.records == 1, "the second life resumed after the committed offsets")
            #expect(second.statistics.entriesRestored == 2, "one threshold key per rule: \(second.statistics)")
            #expect(second.statistics.restoreSkipped == 0)

            #expect(try await Self.alertIDs(broker, topology).sorted() == expected.map(\.id).sorted())

            // The changelog read back as a new owner would (to a marker): per key, the latest
            // record is the state: the two threshold keys and the clock of the worker that saw them.
            let marker = try testProducer(broker)
            var latest: [String: [UInt8]?] = [:]
            var entryRecords = 0
            for p in 0..<Int32(topology.topics.changelog.partitions) {
                let end = try await marker.send(ProducerRecord(topic: topology.topics.changelog.name, key: Array("m".utf8),
                                                               value: Array("x".utf8), partition: p)).offset
                let reader = try KafkaPartitionReader(settings: ClientSettings(bootstrapServers: [broker.bootstrap]),
                                                      topic: topology.topics.changelog.name, partition: p, logger: testLogger)
                let records = try await reader.read(to: end, timeout: .seconds(20), into: [ConsumerRecord]()) { $0.append($1) }
                for r in records {
                    let key = String(decoding: r.key ?? [], as: UTF8.self)
                    latest[key] = .some(r.value)
                    if key.hasPrefix("e/") { entryRecords += 1 }
                }
            }
            await marker.close()
            let entries = latest.filter { $0.key.hasPrefix("e/") && $0.value != nil }
            #expect(entries.count == 2, "\(latest.keys.sorted())")
            #expect(Set(entries.keys.map { String($0.split(separator: "/")[2]) }) == Set(thresholdRules.map { "\($0.utf8.count):\($0)" }))
            #expect(latest.keys.contains { $0.hasPrefix("c/") })
            #expect(entryRecords > entries.count, "the alert's fired window rewrote the entries (\(entryRecords) records)")
        }
    }

    /// Eight public IPs, nine denials each, read by one detect member; a second member joins
    /// (the partitions are split, state moves with them through the changelog); the tenth
    /// denial of each IP: exactly the uninterrupted run's sixteen threshold alerts, same ids,
    /// with state the joining member restored.
    @Test(.timeLimit(.minutes(4)))
    func stateMovesWithAPartitionOnARebalance() async throws {
        try await withBroker { broker in
            let name = uniqueName("m")
            // Public IPs whose keys land on every repartition partition (murmur2 of the key).
            let ips = ["176.95.188.101", "81.2.69.160", "89.160.20.112", "2.125.160.216", "67.43.156.1", "149.101.100.1",
                       "202.196.224.1", "216.160.83.56"]
            let perIP = try Self.denials(0..<10)
            func line(_ ip: Int, _ i: Int) -> String {
                perIP[i].replacingOccurrences(of: "176.95.188.101", with: ips[ip])
                    .replacingOccurrences(of: "denial-\(i)\"", with: "denial-\(ip)-\(i)\"")
            }
            let before = (0..<9).flatMap { i in ips.indices.map { line($0, i) } }
            let after = ips.indices.map { line($0, 9) }
            let raw = IngestStageTests.Raw(topic: "\(name)-eks", format: .eks, lines: before + after)
            let (topology, rules) = try await Self.setUp(broker, name: name, raw: raw)
            let expected = try await ReferenceRun.alerts(raw, topology, rules: rules)
            #expect(expected.count == 16)

            let producer = try testProducer(broker)
            for l in before { try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(l.utf8), partition: 0)) }
            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let runIngest = Task { try await ingest.run() }
            let a = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runA = Task { try await a.run() }
            let nine = await eventually(timeout: .seconds(60)) { a.statistics.records == before.count }
            #expect(nine, "\(a.statistics)")
            let b = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runB = Task { try await b.run() }
            let joined = await eventually(timeout: .seconds(60)) {
                b.statistics.partitionsRestored > 0
            }
            #expect(joined, "a \(a.statistics), b \(b.statistics)")
            for l in after { try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(l.utf8), partition: 0)) }
            await producer.close()
            let fired = await eventually(timeout: .seconds(60)) {
                a.statistics.alertsAcknowledged + b.statistics.alertsAcknowledged >= expected.count
            }
            for run in [runA, runB, runIngest] { run.cancel() }
            try await runA.value
            try await runB.value
            try await runIngest.value
            #expect(fired, "a \(a.statistics), b \(b.statistics)")
            #expect(b.statistics.entriesRestored > 0, "the joining member took over state: \(b.statistics)")
            #expect(b.statistics.alerts > 0, "alerts fired from moved state: \(b.statistics)")
            #expect(a.statistics.alerts + b.statistics.alerts == expected.count)

            #expect(try await Self.alertIDs(broker, topology).sorted() == expected.map(\.id).sorted())
        }
    }
}
