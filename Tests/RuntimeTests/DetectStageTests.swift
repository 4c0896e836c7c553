import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import KafkaIOTesting
@testable import Runtime
import Testing

/// Both stages end to end against the real broker: raw topics → repartition → alerts, with
/// the same alert ids a single in-process engine gives for the same events.
@Suite struct DetectStageTests {
    /// Twelve 403s from one public IP (both 403-threshold rules fire once each), and the
    /// process events (the interactive kubectl fires the stateless Elastic rule).
    static func eksBurst() throws -> [String] {
        try eksDenials(0..<12, id: "burst")
    }

    /// The process fixtures moved to the burst's minute: one event clock for both, so no dedup
    /// period ends (and no summary is due) whichever engine each key lands in.
    static func processEvents() throws -> [String] {
        try fixtureLines("process-events.jsonl").map {
            $0.replacingOccurrences(of: #""@timestamp":"[^"]*""#, with: #""@timestamp":"2023-12-07T14:45:30Z""#,
                                    options: .regularExpression)
        }
    }

    /// A stateless rule over raw JSON paths of the EKS fixture (none of them a normalized field).
    static let rawPathRule = #"""
        id: Test.Raw.Paths
        title: 'raw [{annotations."authorization.k8s.io/decision"}] for [{responseStatus.details.kind}] at [{stageTimestamp}]'
        severity: low
        log_types: [Amazon.EKS.Audit]
        where: annotations."authorization.k8s.io/decision" == "forbid" and responseStatus.details.group == "batch"
        output: [responseObject.kind, requestReceivedTimestamp, source.ip]
        """#

    @Test(.timeLimit(.minutes(3)))
    func rawTopicsToAlertsWithDeterministicIDs() async throws {
        try await withBroker { broker in
            let name = uniqueName("d")
            let raws = [
                IngestStageTests.Raw(topic: "\(name)-eks", format: .eks, lines: try Self.eksBurst()),
                IngestStageTests.Raw(topic: "\(name)-proc", format: .process, lines: try Self.processEvents()),
            ]
            for raw in raws { try await broker.createTopic(raw.topic, partitions: 2) }
            let dir = try temporaryDirectory()
            // The seed rules and one that reads raw JSON paths (condition, title and output), so
            // the JSON documents travel for EKS events and the raw reads are checked end to end.
            let rulesDir = dir + "/rules"
            try FileManager.default.copyItem(atPath: repositoryPath("topology/rules"), toPath: rulesDir)
            try write(Self.rawPathRule, to: rulesDir + "/raw.yaml")
            try write(IngestStageTests.topology(broker.bootstrap, name: name, raws: raws)
                        .replacingOccurrences(of: "rules: " + repositoryPath("topology/rules"), with: "rules: " + rulesDir),
                      to: dir + "/t.yaml")
            let (topology, rules) = try TopologyLoader.load(file: dir + "/t.yaml")
            #expect(rules.contains { $0.id == "Test.Raw.Paths" })

            // Produce to partition 0 in order; the reference engine sees the same events and origins.
            let producer = try testProducer(broker)
            var reference = try await ReferenceRun(topology, rules: rules)
            var expected: [Alert] = []
            for raw in raws {
                let decoder = try raw.decoder(topology)
                for line in raw.lines {
                    let report = try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(line.utf8),
                                                                        partition: 0))
                    expected += reference.process(line, decoder: decoder, topic: report.topic, partition: report.partition,
                                                  offset: report.offset)
                }
            }
            // A poison record on the repartition topic (not written by ingest): dead-lettered, and detect goes on.
            try await broker.createTopic(topology.topics.repartition.name, partitions: topology.topics.repartition.partitions)
            try await producer.send(ProducerRecord(topic: topology.topics.repartition.name, key: "poison", value: "{\"x\":1}"))
            await producer.close()
            let byRule = Dictionary(grouping: expected, by: \.ruleID).mapValues(\.count)
            #expect(byRule["Kubernetes.API.Multiple403.PublicIP"] == 1, "\(byRule)")
            #expect(byRule["Amazon.EKS.Audit.Multiple403"] == 1, "\(byRule)")
            #expect((byRule["Kubernetes.Direct.Interactive.API.Request"] ?? 0) >= 1, "\(byRule)")
            #expect(byRule["Test.Raw.Paths"] == 12, "\(byRule)")

            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let detect = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runIngest = Task { try await ingest.run() }
            let runDetect = Task { try await detect.run() }
            let done = await eventually(timeout: .seconds(60)) {
                detect.statistics.alertsAcknowledged >= expected.count && detect.statistics.records == 16
            }
            #expect(detect.engineStatistics.events == 15)
            runIngest.cancel()
            runDetect.cancel()
            try await runIngest.value
            try await runDetect.value
            #expect(done, "ingest \(ingest.statistics), detect \(detect.statistics)")

            let records = try await readTopic(topology.topics.alerts.name, broker, count: expected.count + 1, timeout: .seconds(12))
            let produced = records.compactMap { $0.header("vigil-alert-id").map { String(decoding: $0, as: UTF8.self) } }
            #expect(produced.sorted() == expected.map(\.id).sorted())
            for record in records {
                let value = String(decoding: record.value ?? [], as: UTF8.self)
                let alert = try #require(expected.first { value.contains("\"alert_id\":\"\($0.id)\"") })
                // The same alert, but for when each side loaded the Tor list.
                func withoutTorTime(_ json: String) -> String {
                    json.replacingOccurrences(of: #""tor_list_time":"[^"]*""#, with: "", options: .regularExpression)
                }
                #expect(withoutTorTime(value) == withoutTorTime(alert.json))
                #expect(value.contains("\"tor_list_time\":\""))
                #expect(record.key.map { String(decoding: $0, as: UTF8.self) } == AlertRecord.key(for: alert))
            }
            #expect(detect.statistics.undecodable == 1)
            let dead = try await readTopic(topology.topics.deadLetter.name, broker, count: 1)
            #expect(dead.first?.value == Array("{\"x\":1}".utf8))
            #expect(dead.first?.header("vigil-dlq-reason").map { String(decoding: $0, as: UTF8.self) } == "missing_field")
            #expect(dead.first?.header("vigil-source-topic").map { String(decoding: $0, as: UTF8.self) }
                    == topology.topics.repartition.name)
            let threshold = try #require(expected.first { $0.ruleID == "Kubernetes.API.Multiple403.PublicIP" })
            #expect(AlertRecord.key(for: threshold).contains("176.95.188.101"))
        }
    }

    /// One frame of process events (their keys spread over both detect workers) with a damaged
    /// event in the middle: every other event is evaluated and alerts, in entry order (the alerts
    /// topic has one partition); the damaged one alone goes to the dead-letter topic, as the
    /// record it would have been alone, with its reason.
    @Test(.timeLimit(.minutes(3)))
    func aFramesEventsAreEvaluatedByTheirKeysWorkersAndADamagedOneIsDeadLetteredAlone() async throws {
        try await withBroker { broker in
            let name = uniqueName("f")
            let dir = try temporaryDirectory()
            let raw = IngestStageTests.Raw(topic: "\(name)-proc", format: .process, lines: [])  // ingest does not run
            try write(IngestStageTests.topology(broker.bootstrap, name: name, raws: [raw]), to: dir + "/t.yaml")
            let (topology, rules) = try TopologyLoader.load(file: dir + "/t.yaml")
            let decoder = try AuditRecordDecoder(format: .process)
            let base = try Self.processEvents().flatMap { decoder.decode($0).compactMap(\.event) }
            // Twelve copies of each fixture event, each copy a container of its own (keys, and
            // so workers, differ), one raw offset each.
            var events: [AuditEvent] = []
            for copy in 0..<12 {
                for var event in base {
                    let container = event.process?.containerID ?? ""
                    event.process?.containerID = "container-\(copy)-\(container)"
                    events.append(event)
                }
            }
            let damagedAt = events.count / 2
            var frame = RepartitionFrame(partition: 0)
            var expected: [Alert] = []
            var reference = DetectionEngine(rules: rules, settings: EngineSettings(allowedLateness: 600))
            for (i, event) in events.enumerated() {
                let origin = RawOrigin(topic: "t", partition: 0, offset: Int64(i))
                frame.append(event, enrichment: .none, origin: origin, arrival: nil, documents: false)
                if i != damagedAt {
                    expected += reference.process(event, enrichment: .none, origin: .kafka(topic: "t", partition: 0, offset: Int64(i)))
                }
            }
            var value = try #require(frame.record(topic: topology.topics.repartition.name).value)
            let entries = try #require(RepartitionFrame.entries(value))
            // The event's log type code: after magic, arrival, origin ("t", 0, offset < 64, no
            // index), no geo, no Tor exits, three nil versions.
            let eventAt = entries[damagedAt].body.lowerBound + 4 + 9 + 2 + 1 + 1 + 1 + 1 + 1 + 3
            #expect(value[eventAt] == events[damagedAt].logType.compactCode)
            value[eventAt] = 99
            #expect(expected.count >= 10, "\(expected.count) alerts")
            let keys = Set(entries.map { DetectProcessor.slot(DetectProcessor.route(
                ConsumerRecord(topic: "r", partition: 0, offset: 0, key: nil, value: value), $0), 2) })
            #expect(keys == [0, 1], "the frame's events go to both workers")

            try await broker.createTopic(topology.topics.repartition.name, partitions: topology.topics.repartition.partitions)
            let producer = try testProducer(broker)
            try await producer.send(ProducerRecord(topic: topology.topics.repartition.name, key: nil, value: value, partition: 0))
            await producer.close()
            let detect = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let run = Task { try await detect.run() }
            let done = await eventually(timeout: .seconds(60)) {
                detect.statistics.alertsAcknowledged >= expected.count && detect.statistics.undecodable == 1
            }
            #expect(detect.engineStatistics.events == events.count - 1)
            run.cancel()
            try await run.value
            #expect(done, "detect \(detect.statistics)")
            #expect(detect.statistics.records == events.count)

            let alerts = try await readTopic(topology.topics.alerts.name, broker, count: expected.count + 1, timeout: .seconds(8))
            let ids = alerts.compactMap { $0.header("vigil-alert-id").map { String(decoding: $0, as: UTF8.self) } }
            #expect(ids == expected.map(\.id), "alerts in entry order")
            let dead = try await readTopic(topology.topics.deadLetter.name, broker, count: 1)
            #expect(dead.count == 1)
            #expect(dead.first?.value == Array(value[entries[damagedAt].body]))
            #expect(dead.first?.key.map { String(decoding: $0, as: UTF8.self) } == events[damagedAt].process?.containerID)
            #expect(dead.first?.header("vigil-dlq-reason") != nil)
            #expect(dead.first?.header("vigil-dlq-position").map { String(decoding: $0, as: UTF8.self) } == "\(damagedAt)")
        }
    }

    /// The EKS 403 fixture at `time` (both of its timestamps), with `code` and `auditID`.
    static func eksEvent(at time: Date, auditID: String, code: Int = 403) throws -> String {
        let stamp = EventTime(milliseconds: Int64(time.timeIntervalSince1970 * 1000)).description
        return try eksDenial(second: 0, auditID: auditID)
            .replacingOccurrences(of: "2023-12-07T14:45:00.000000Z", with: stamp)
            .replacingOccurrences(of: "2023-12-07T14:44:53.375985Z", with: stamp)
            .replacingOccurrences(of: "\"code\":403", with: "\"code\":\(code)")
    }

    /// A record stamped three hours ahead of the wall clock (a host with a wrong clock, a forged
    /// record), then a 403 burst of now from the same address (so the same repartition partition
    /// and engine): the detect clock goes only `limits.max_clock_lead` ahead, so the burst is
    /// not late and both 403 threshold rules fire; the future record is counted.
    @Test(.timeLimit(.minutes(3)))
    func anEventFromTheFutureDoesNotSilenceStatefulRules() async throws {
        try await withBroker { broker in
            let name = uniqueName("f")
            let now = Date()
            let lines = [try Self.eksEvent(at: now.addingTimeInterval(3 * 3600), auditID: "future", code: 200)]
                + (try (0..<12).map { try Self.eksEvent(at: now.addingTimeInterval(Double($0) - 60), auditID: "now-\($0)") })
            let raw = IngestStageTests.Raw(topic: "\(name)-eks", format: .eks, lines: lines)
            try await broker.createTopic(raw.topic, partitions: 1)
            let dir = try temporaryDirectory()
            try write(IngestStageTests.topology(broker.bootstrap, name: name, raws: [raw]), to: dir + "/t.yaml")
            let (topology, rules) = try TopologyLoader.load(file: dir + "/t.yaml")
            #expect(topology.limits.maxClockLead == .seconds(300))
            let producer = try testProducer(broker)
            for line in lines { try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(line.utf8))) }
            await producer.close()

            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let detect = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runIngest = Task { try await ingest.run() }
            let runDetect = Task { try await detect.run() }
            let done = await eventually(timeout: .seconds(60)) {
                detect.engineStatistics.events == 13 && detect.statistics.alertsAcknowledged >= 2
            }
            let statistics = detect.engineStatistics
            runIngest.cancel()
            runDetect.cancel()
            try await runIngest.value
            try await runDetect.value
            #expect(done, "detect \(detect.statistics), engines \(statistics)")
            #expect(statistics.futureEvents == 1)
            #expect(statistics.lateEvents == 0)
            let alerts = try await readTopic(topology.topics.alerts.name, broker, count: 2, timeout: .seconds(12))
            let ruleIDs = alerts.compactMap { $0.header("vigil-rule-id").map { String(decoding: $0, as: UTF8.self) } }
            #expect(ruleIDs.sorted() == ["Amazon.EKS.Audit.Multiple403", "Kubernetes.API.Multiple403.PublicIP"])
        }
    }
}
