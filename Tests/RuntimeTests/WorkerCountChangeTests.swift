import AuditEvents
import Detection
import Foundation
import KafkaIO
import KafkaIOTesting
import Runtime
import Testing

/// The detect stage stopped and started again with another worker count (`workers.detect`)
/// over the same changelog, against the real broker: a key's restored state must be in the
/// worker its records now go to, so the alerts are exactly those of one uninterrupted run.
@Suite struct WorkerCountChangeTests {
    /// Public, located IPs (Country and City in the GeoIP file) whose keys spread over the
    /// repartition partitions and over 2, 3 and 4 workers.
    static let ips = ["176.95.188.101", "81.2.69.160", "89.160.20.112", "2.125.160.216", "67.43.156.1", "149.101.100.1",
                      "202.196.224.1", "216.160.83.56", "8.8.8.8", "1.1.1.1", "9.9.9.9", "208.67.222.222"]

    /// Unauthenticated EKS 403s: each feeds the two 403 thresholds (ten within 30 minutes) and
    /// the scanning aggregate (more than five in an hour, counted per IP, Country and City).
    /// At 14:45:`second` on 2023-12-07, or two hours later.
    static func line(ip: Int, second: Int, later: Bool = false) throws -> String {
        let line = try eksDenial(second: second, auditID: "wc-\(ip)-\(second)\(later ? "-later" : "")", ip: ips[ip])
            .replacingOccurrences(of: #""groups":["system:authenticated"]"#, with: #""groups":["system:unauthenticated"]"#)
        return later ? line.replacingOccurrences(of: "2023-12-07T14:45:", with: "2023-12-07T16:45:") : line
    }

    /// Nine denials per IP read by `before` workers; the stage stopped; the tenth per IP and,
    /// two hours later, one more per IP (its time closes the aggregate windows in whichever
    /// engine holds them) read by `after` workers: the alert lines on the topic are exactly the
    /// uninterrupted run's (same ids, counts, events), with state restored from the changelog.
    @Test(.timeLimit(.minutes(4)), arguments: [(2, 3), (3, 2)])
    func restoredStateFollowsTheKeysToTheirNewWorker(before: Int, after: Int) async throws {
        try await withBroker { broker in
            let name = uniqueName("wc\(before)\(after)")
            let first = try (0..<9).flatMap { s in try Self.ips.indices.map { try Self.line(ip: $0, second: s) } }
            let rest = try Self.ips.indices.map { try Self.line(ip: $0, second: 9) }
                + Self.ips.indices.map { try Self.line(ip: $0, second: 9, later: true) }
            let raw = IngestStageTests.Raw(topic: "\(name)-eks", format: .eks, lines: first + rest)
            let (topology, rules) = try await DetectStateTests.setUp(broker, name: name, raw: raw)
            let expected = try await ReferenceRun.alerts(raw, topology, rules: rules)
            let scans = expected.filter { $0.ruleID == "Kubernetes.Access.Scanning" }
            #expect(scans.count >= 5 && expected.count == scans.count + 2 * Self.ips.count,
                    "\(expected.map { "\($0.ruleID) \($0.count)" })")

            let producer = try testProducer(broker)
            for l in first { try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(l.utf8), partition: 0)) }
            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let runIngest = Task { try await ingest.run() }
            let one = DetectStage(topology: try Self.with(topology, workers: before), rules: rules, logger: testLogger)
            let runOne = Task { try await one.run() }
            let read = await eventually(timeout: .seconds(60)) { one.statistics.records == first.count }
            runOne.cancel()
            try await runOne.value
            #expect(read, "\(one.statistics)")
            #expect(one.statistics.alerts == 0)

            for l in rest { try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(l.utf8), partition: 0)) }
            await producer.close()
            let two = DetectStage(topology: try Self.with(topology, workers: after), rules: rules, logger: testLogger)
            let runTwo = Task { try await two.run() }
            let done = await eventually(timeout: .seconds(60)) {
                two.statistics.records == rest.count && two.statistics.alertsAcknowledged >= expected.count
            }
            // Anything more (a window alerting twice) would come within the idle ticks' diff.
            try await Task.sleep(for: .seconds(2))
            runTwo.cancel()
            runIngest.cancel()
            try await runTwo.value
            try await runIngest.value
            #expect(done, "\(two.statistics)")
            #expect(two.statistics.entriesRestored > 0 && two.statistics.records == rest.count, "\(two.statistics)")

            let lines = try await readAfterJoin(broker, group: uniqueName("alerts"), topics: [topology.topics.alerts.name])
                .map { Self.comparable(String(decoding: $0.value ?? [], as: UTF8.self)) }
            let want = expected.map { Self.comparable($0.json) }
            #expect(lines.sorted() == want.sorted(), "only got: \(lines.filter { !want.contains($0) }), only expected: \(want.filter { !lines.contains($0) }); got \(Self.summary(lines)), expected \(Self.summary(want))")
        }
    }

    /// The topology with another detect worker count.
    static func with(_ topology: Topology, workers: Int) throws -> Topology {
        var t = topology
        t.workers.detect = workers
        return t
    }

    /// An alert line without its data versions (the Tor list's time is when each enricher
    /// loaded it), keys sorted.
    static func comparable(_ line: String) -> String {
        guard var object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return line }
        object["data_versions"] = nil
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return line }
        return String(decoding: data, as: UTF8.self)
    }

    /// (alert id, count) of each alert line, sorted: what a failure shows.
    static func summary(_ lines: [String]) -> [String] {
        lines.compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return "\(object["rule_id"] ?? "?") \(object["alert_id"] ?? "?") \(object["count"] ?? "?")"
        }.sorted()
    }
}
