import Foundation
import KafkaIO
import KafkaIOTesting
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `vigil run` as an operator sees it: the binary against the real broker, JSON log lines,
/// `/ready` and `/health` over loopback, and `/metrics` moving with the records.
@Suite struct RunObservabilityTests {
    /// One sample of a Prometheus text exposition.
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    static func parse(_ exposition: String) -> [Sample] {
        exposition.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
            else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            // label="value" pairs; Vigil's label values hold no quotes or commas.
            for pair in series[series.index(after: brace)...].dropLast().split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { labels[String(kv[0])] = String(kv[1].dropFirst().dropLast()) }
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// The sum of the series of `name` whose labels include `labels`; nil when there is none.
    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    static func get(_ port: Int, _ path: String) async -> (status: Int, body: String)? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10
        guard let (data, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? -1, String(decoding: data, as: UTF8.self))
    }

    /// `count` copies of the EKS fixture event (one public IP, 403s), a second apart.
    static func denials(_ count: Int, id: String) throws -> [String] {
        try (0..<count).map { i in try eksDenial(second: i, auditID: "\(id)-\(i)") }
    }

    @Test(.timeLimit(.minutes(3)))
    func metricsHealthAndReadinessFollowTheRunningStages() async throws {
        try await withBroker { broker in
            let name = uniqueName("obs")
            let topic = "\(name)-eks"
            try await broker.createTopic(topic, partitions: 2)
            let dir = try temporaryFolder("vigil-run-obs")
            defer { try? FileManager.default.removeItem(at: dir) }
            let topologyFile = dir.appendingPathComponent("topology.yaml").path
            try testTopology(broker.bootstrap, name: name, sources: ["{topic: \(topic), format: eks, cluster: prod-eks}"],
                             statisticsInterval: "1s").write(toFile: topologyFile, atomically: true, encoding: .utf8)
            let logFile = dir.appendingPathComponent("vigil.log")
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)

            // Any free port (the test topology's 127.0.0.1:0, given again as the override); the log says which.
            let process = Process()
            process.executableURL = vigilBinary
            process.arguments = ["run", "--topology", topologyFile, "--log-format", "json", "--http-listen", "127.0.0.1:0"]
            let log = try FileHandle(forWritingTo: logFile)
            process.standardOutput = log
            process.standardError = log
            let exited = Exited()
            process.terminationHandler = { exited.set($0.terminationStatus) }
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            func logLines() -> [[String: Any]] {
                let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            }
            var port: Int?
            _ = await eventually(timeout: .seconds(30)) {
                let listening = logLines().first { $0["message"] as? String == "observability: listening" }
                let address = (listening?["metadata"] as? [String: Any])?["address"] as? String
                port = address.flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
                return port != nil || exited.status != nil
            }
            let http = try #require(port, "no listening line: \((try? String(contentsOf: logFile, encoding: .utf8)) ?? "")")

            // Before the groups are joined: alive, not ready. On a loaded machine both groups may be
            // joined before this first question is answered; a 200 then needs both stages' assignment
            // lines already in the log (each is logged before its stage turns `running`).
            let early = try #require(await Self.get(http, "/ready"))
            if early.status == 200 {
                let assigned = Set(logLines().compactMap { $0["message"] as? String }.filter { $0.hasSuffix(": partitions assigned") })
                #expect(assigned == ["ingest: partitions assigned", "detect: partitions assigned"],
                        "ready before any assignment: \(early.body)")
            } else {
                #expect(early.status == 503, "\(early.body)")
            }
            #expect(await Self.get(http, "/health")?.status == 200)

            // Twelve 403s from one public IP (the 403 thresholds fire at ten) and one malformed record.
            let producer = try KafkaProducer(settings: ProducerSettings(client: ClientSettings(bootstrapServers: [broker.bootstrap])),
                                             logger: testLogger)
            for (i, line) in try Self.denials(12, id: name).enumerated() {
                _ = try await producer.send(ProducerRecord(topic: topic, key: nil, value: Array(line.utf8), partition: Int32(i % 2)))
            }
            _ = try await producer.send(ProducerRecord(topic: topic, key: nil, value: Array("{not json".utf8), partition: 0))
            await producer.close()

            let ready = await eventually(timeout: .seconds(60)) { await Self.get(http, "/ready")?.status == 200 }
            let readiness = await Self.get(http, "/ready")?.body ?? "no answer"
            #expect(ready, "\(readiness)")

            var samples: [Sample] = []
            let counted = await eventually(timeout: .seconds(60)) {
                samples = Self.parse(await Self.get(http, "/metrics")?.body ?? "")
                // Rule matches are sampled from the engines' totals every few seconds (DetectMetrics),
                // not counted per event: wait for them too (under load the sample came after the alert).
                return Self.value(samples, "vigil_alerts_total", ["rule": "Amazon.EKS.Audit.Multiple403"]) == 1
                    && Self.value(samples, "vigil_rule_matches_total", ["rule": "Amazon.EKS.Audit.Multiple403"]) == 12
                    && Self.value(samples, "vigil_consumer_lag", ["group": "\(name)-ingest"]) != nil
                    && (Self.value(samples, "vigil_commits_total", ["group": "\(name)-detect", "outcome": "ok"]) ?? 0) >= 1
                    && (Self.value(samples, "vigil_commits_total", ["group": "\(name)-ingest", "outcome": "ok"]) ?? 0) >= 1
            }
            #expect(counted, "\(samples.filter { $0.name.hasPrefix("vigil_") }.map { "\($0.name)\($0.labels) \($0.value)" })")
            func v(_ metric: String, _ labels: [String: String] = [:]) -> Double? { Self.value(samples, metric, labels) }
            #expect(v("vigil_ingest_records_total", ["topic": topic, "outcome": "decoded"]) == 12)
            #expect(v("vigil_ingest_records_total", ["topic": topic, "outcome": "dead_letter"]) == 1)
            #expect(v("vigil_ingest_events_total", ["log_type": "Amazon.EKS.Audit"]) == 12)
            #expect(v("vigil_dead_letters_total", ["topic": topic, "reason": "malformed_json"]) == 1)
            #expect(v("vigil_detect_records_total", ["outcome": "evaluated"]) == 12)
            #expect(v("vigil_rule_matches_total", ["rule": "Amazon.EKS.Audit.Multiple403"]) == 12)
            #expect(v("vigil_alerts_total", ["rule": "Amazon.EKS.Audit.Multiple403", "severity": "info"]) == 1)
            #expect(v("vigil_alert_latency_seconds_count", ["rule": "Amazon.EKS.Audit.Multiple403"]) == 1)
            #expect((v("vigil_state_keys", ["rule": "Amazon.EKS.Audit.Multiple403"]) ?? 0) >= 1)
            #expect(v("vigil_assigned_partitions", ["group": "\(name)-ingest"]) == 2)
            #expect(v("vigil_assigned_partitions", ["group": "\(name)-detect"]) == 4)
            #expect((v("vigil_rebalances_total", ["group": "\(name)-detect", "kind": "assigned"]) ?? 0) >= 1)
            let commits = samples.filter { $0.name == "vigil_commits_total" }.map { "\($0.labels) \($0.value)" }
            #expect((v("vigil_commits_total", ["group": "\(name)-ingest", "outcome": "ok"]) ?? 0) >= 1, "\(commits)")
            #expect((v("vigil_commits_total", ["group": "\(name)-detect", "outcome": "ok"]) ?? 0) >= 1)
            #expect((v("vigil_commits_total", ["group": "\(name)-ingest", "outcome": "failed"]) ?? 0) == 0)
            #expect((v("vigil_processing_seconds_count", ["stage": "ingest"]) ?? 0) >= 1)
            #expect((v("vigil_processing_seconds_count", ["stage": "detect"]) ?? 0) >= 1)
            #expect((v("vigil_geoip_lookups_total") ?? 0) >= 12)
            #expect((v("vigil_geoip_build_epoch_seconds", ["database": "GeoLite2-City"]) ?? 0) > 1_500_000_000)
            #expect((v("vigil_tor_exit_nodes") ?? 0) > 1000)
            #expect((v("vigil_tor_list_age_seconds") ?? 0) > 0)
            #expect(v("vigil_ready", ["stage": "ingest"]) == 1 && v("vigil_ready", ["stage": "detect"]) == 1)
            #expect(v("vigil_build_info") == 1)
            #expect(v("vigil_rules_loaded") == 5)
            #expect((v("vigil_changelog_records_total", ["kind": "entry"]) ?? 0) >= 1)
            #expect((v("vigil_state_restore_seconds_count") ?? 0) == 4)
            #expect(v("vigil_consumer_lag", ["group": "\(name)-ingest", "topic": topic, "partition": "0"]) != nil)
            #expect(await Self.get(http, "/health")?.status == 200)

            // SIGTERM: not ready once the signal is handled (or already gone), exit 0, the listener
            // closed last. The signal reaches the process's handler a moment after terminate()
            // returns, so a /ready asked at once may still be answered by the running process.
            process.terminate()
            let notReady = await eventually(timeout: .seconds(10)) {
                await Self.get(http, "/ready").map { $0.status == 503 } ?? true
            }
            #expect(notReady)
            let stopped = await eventually(timeout: .seconds(60)) { exited.status != nil }
            #expect(stopped && exited.status == 0)
            let text = try String(contentsOf: logFile, encoding: .utf8)
            let lines = text.split(separator: "\n")
            let parsed = logLines()
            #expect(parsed.count == lines.count, "every line is a JSON object: \(lines.filter { l in (try? JSONSerialization.jsonObject(with: Data(l.utf8))) == nil })")
            #expect(parsed.allSatisfy { $0["time"] is String && $0["level"] is String && $0["label"] is String && $0["source"] is String })
            let messages = parsed.compactMap { $0["message"] as? String }
            let stagesStopped = messages.lastIndex { $0 == "ingest: stopped" || $0 == "detect: stopped" }
            let listenerClosed = messages.lastIndex { $0 == "observability: listener closed" }
            #expect(stagesStopped != nil && listenerClosed != nil && stagesStopped! < listenerClosed!, "\(messages.suffix(15))")
        }
    }

    @Test func aBadListenAddressIsRefusedBeforeAnythingConnects() async throws {
        let (status, output) = try await runVigil(["run", "--topology", repositoryPath("topology/vigil.yaml"), "--http-listen", "nowhere"])
        #expect(status != 0 && output.contains("--http-listen must be HOST:PORT"), "\(output)")
    }
}

/// The exit status, set from the process's termination handler.
final class Exited: Sendable {
    private let value = Mutex<Int32?>(nil)
    func set(_ status: Int32) { value.withLock { $0 = status } }
    var status: Int32? { value.withLock { $0 } }
}
