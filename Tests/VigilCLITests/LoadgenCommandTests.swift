import Foundation
import KafkaIOTesting
import Testing

/// Replays the folder's files; the alerts (stdout) apart from the summary (stderr), which
/// would otherwise land inside an alert line when the output is large.
func replayTraffic(_ folder: URL) async throws -> (status: Int32, output: String) {
    let files = [("eks", "eks-audit"), ("aks", "aks-audit"), ("gke", "gke-audit"), ("process", "proc-exec")]
        .map { "\($0.0):" + folder.appendingPathComponent("\($0.1).jsonl").path }
    let alerts = folder.appendingPathComponent("alerts.out")
    _ = FileManager.default.createFile(atPath: alerts.path, contents: nil)
    let process = Process()
    process.executableURL = vigilBinary
    process.arguments = ["replay", "--rules", repositoryPath("topology/rules"), "--geoip", repositoryPath("geo/GeoLite2-City.mmdb"),
                         "--tor", repositoryPath("geo/tor/torbulkexitlist-2024-03-12.txt")] + files
    let out = try FileHandle(forWritingTo: alerts)
    process.standardOutput = out
    let errors = Pipe()
    process.standardError = errors
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    try out.close()
    let summary = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (status, String(decoding: FileManager.default.contents(atPath: alerts.path) ?? Data(), as: UTF8.self) + summary)
}

/// `vigil loadgen`: deterministic, shaped as asked, and its attacks raise exactly the alerts
/// it promises when the traffic is replayed through the seed rules.
@Suite struct LoadgenCommandTests {
    static let files = ["eks-audit", "aks-audit", "gke-audit", "proc-exec"]

    /// Runs loadgen into a fresh folder; returns the folder and loadgen's summary (its JSON line).
    private func generate(_ arguments: [String]) async throws -> (URL, [String: Any]) {
        let folder = try temporaryFolder("vigil-loadgen")
        let (status, output) = try await runVigil(["loadgen", "--topology", repositoryPath("topology/vigil.yaml"),
                                                   "--out", folder.path] + arguments)
        #expect(status == 0, "\(output)")
        return (folder, jsonLines(output).last ?? [:])
    }

    /// Times and timeouts out of range are usage errors, not traps in a conversion.
    @Test func startTimesAndTimeoutsOutOfRangeAreUsageErrors() async throws {
        let folder = try temporaryFolder("vigil-loadgen")
        for start in ["1e300", "nan", "inf", "-5", "now+300000000000d"] {
            let (status, output) = try await runVigil(["loadgen", "--topology", repositoryPath("topology/vigil.yaml"),
                                                       "--out", folder.path, "--count", "1", "--start=\(start)"])
            #expect(status == 64 && output.contains("--start "), "\(start): \(status) \(output)")
        }
        for options in [["--rate=1e300", "--duration=1s"], ["--rate=nan"], ["--count=9223372036854775807"],
                        ["--count=1000", "--event-rate=1e-300"], ["--duration=-5s", "--rate=10"],
                        ["--attack-span=300000000000d"], ["--span=9223372036854775807"]] {
            let (status, output) = try await runVigil(["loadgen", "--topology", repositoryPath("topology/vigil.yaml"),
                                                       "--out", folder.path, "--start=hour"] + options)
            #expect(status == 64, "\(options): \(status) \(output)")
        }
        for options in [["--count=9223372036854775807"], ["--event-rate=nan"], ["--event-rate=1e-300"], ["--runs=0"]] {
            let (status, output) = try await runVigil(["bench", "--topology", repositoryPath("topology/vigil.yaml")] + options)
            #expect(status == 64, "\(options): \(status) \(output)")
        }
        for timeout in ["inf", "1e300", "nan", "0"] {
            let (status, output) = try await runVigil(["consume", "--bootstrap", "127.0.0.1:9", "--topic", "t",
                                                       "--timeout=\(timeout)"])
            #expect(status == 64 && output.contains("--timeout"), "\(timeout): \(status) \(output)")
        }
    }

    private func contents(_ folder: URL, _ name: String) -> Data {
        FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) ?? Data()
    }

    private func lines(_ folder: URL, _ name: String) -> [[String: Any]] {
        jsonLines(String(decoding: contents(folder, name + ".jsonl"), as: UTF8.self))
    }

    private func alertsByRule(_ output: String) -> [String: Int] {
        var got: [String: Int] = [:]
        for alert in jsonLines(output) where alert["kind"] as? String == "alert" {
            got[alert["rule_id"] as? String ?? "?", default: 0] += 1
        }
        return got
    }

    @Test func theSameSeedAndStartGiveTheSameRecordsAndAnotherSeedOthers() async throws {
        let common = ["--start", "2026-11-22T09:00:00Z", "--count", "400", "--attacks", "all=1", "--eks-batch", "3"]
        let (a, _) = try await generate(common + ["--seed", "7"])
        let (b, _) = try await generate(common + ["--seed", "7"])
        let (c, _) = try await generate(common + ["--seed", "8"])
        defer { for f in [a, b, c] { try? FileManager.default.removeItem(at: f) } }
        for name in Self.files {
            #expect(!contents(a, name + ".jsonl").isEmpty, "\(name)")
            #expect(contents(a, name + ".jsonl") == contents(b, name + ".jsonl"), "\(name)")
            #expect(contents(a, name + ".jsonl") != contents(c, name + ".jsonl"), "\(name)")
        }
        // Times follow the start: the first EKS event of the stream is at 09:00:00.
        let first = lines(a, "eks-audit").first?["logEvents"] as? [[String: Any]]
        #expect((first?.first?["timestamp"] as? Int).map { $0 / 1000 } == 1_795_338_000)
    }

    @Test func theMixAndBatchShapesShapeTheTraffic() async throws {
        let (folder, summary) = try await generate(["--count", "4000", "--mix", "eks=1,gke=3",
                                                    "--eks-batch", "5", "--start", "now"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let eks = lines(folder, "eks-audit"), gke = lines(folder, "gke-audit")
        let eksEvents = eks.reduce(0) { $0 + (($1["logEvents"] as? [Any])?.count ?? 0) }
        #expect(eks.allSatisfy { $0["messageType"] as? String == "DATA_MESSAGE" })
        #expect(eks.dropLast().allSatisfy { ($0["logEvents"] as? [Any])?.count == 5 })
        #expect(eksEvents + gke.count == 4000)
        #expect((800...1200).contains(eksEvents), "eks \(eksEvents) of 4000 at weight 1:3")
        #expect(gke.allSatisfy { ($0["protoPayload"] as? [String: Any])?["serviceName"] as? String == "k8s.io" })
        #expect(lines(folder, "aks-audit").isEmpty && lines(folder, "proc-exec").isEmpty)
        #expect(summary["events"] as? Int == 4000, "\(summary)")

        // The default mix: every cloud, events of about 1.3 KB.
        let (mixed, sizes) = try await generate(["--count", "2000", "--start", "now"])
        defer { try? FileManager.default.removeItem(at: mixed) }
        for name in Self.files { #expect(!lines(mixed, name).isEmpty, "\(name)") }
        let perEvent = (sizes["bytes"] as? Int ?? 0) / max(sizes["events"] as? Int ?? 1, 1)
        #expect((1100...1500).contains(perEvent), "\(sizes)")
    }

    @Test func attackSpanKeepsEveryAttackStepInsideTheTraffic() async throws {
        // A minute of background; four interactive instances (three execs each, the last 25 s
        // after the first) spread over the first 20 s end by 09:00:45, not 09:01:17.5 as over
        // the whole minute.
        let (folder, _) = try await generate(["--start", "2026-11-22T09:00:00Z", "--count", "600", "--span", "60s",
                                              "--attacks", "interactive=4", "--attack-span", "20s"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let execs = lines(folder, "proc-exec")
        let interactive = execs.filter { ($0["process"] as? [String: Any])?["interactive"] as? Bool == true }
            .compactMap { $0["@timestamp"] as? String }
        #expect(interactive.count == 12, "\(interactive)")
        #expect(interactive.allSatisfy { $0 >= "2026-11-22T09:00:00" && $0 <= "2026-11-22T09:00:45" }, "\(interactive)")
        #expect(interactive.contains { $0 >= "2026-11-22T09:00:40" }, "the last steps come 25 s after the first: \(interactive)")
        #expect(execs.contains { ($0["@timestamp"] as? String ?? "") >= "2026-11-22T09:00:55" }, "the background goes on")
    }

    /// Live traffic to a real broker, rendered first (`--prepare`) and sent in bursts (`--flush`):
    /// records leave together at each burst, after their events happened and within one interval.
    @Test(.timeLimit(.minutes(3)))
    func pacedTrafficLeavesInFlushBurstsAfterItsEventTimes() async throws {
        try await withRawTopics("vigil-loadgen-live") { folder, broker in
            let sending = folder.appendingPathComponent("sending").path
            let (status, output) = try await runVigil([
                "loadgen", "--topology", repositoryPath("topology/vigil.yaml"), "--bootstrap", broker.bootstrap,
                "--rate", "200", "--duration", "3s", "--mix", "process=1", "--attacks", "all=0",
                "--flush", "1s", "--prepare", "--sending-file", sending])
            #expect(status == 0, "\(output)")
            #expect(FileManager.default.fileExists(atPath: sending))
            let summary = jsonLines(output).last ?? [:]
            #expect(summary["events"] as? Int == 600, "\(summary)")
            #expect((summary["max_behind_ms"] as? Int).map { $0 < 500 } == true, "the bursts left on time: \(summary)")

            let (consumed, text) = try await runVigilForOutput(["consume", "--bootstrap", broker.bootstrap, "--topic", "proc-exec",
                                                               "--from-beginning", "--format", "json", "--max", "600", "--timeout", "30"])
            #expect(consumed == 0)
            let time = ISO8601DateFormatter()
            time.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var pairs: [(sent: Int, happened: Int)] = []
            for record in jsonLines(text) {
                guard let sent = record["timestamp_ms"] as? Int,
                      let value = (record["value"] as? String).flatMap({ jsonLines($0).first }),
                      let happened = (value["@timestamp"] as? String).flatMap(time.date(from:)) else { continue }
                pairs.append((sent, Int(happened.timeIntervalSince1970 * 1000)))
            }
            #expect(pairs.count == 600, "\(text.prefix(500))")
            #expect(pairs.allSatisfy { $0.sent >= $0.happened && $0.sent - $0.happened < 1_500 }, "\(pairs.prefix(20))")
            // Three seconds of events in bursts a second apart: the send times fall in three or four
            // groups (each record's timestamp is its burst's), with gaps of most of a second between.
            let sent = pairs.map(\.sent).sorted()
            let gaps = zip(sent, sent.dropFirst()).filter { $1 - $0 > 500 }.count
            #expect((2...3).contains(gaps), "\(Set(sent).sorted())")
        }
    }

    /// A `--prepare` rendering that takes longer than estimated is done again with later event
    /// times, so the first burst is not sent behind its time (session 15: a 1.2M-record
    /// rendering overran the sample's estimate and its first bursts left 3.7-5.5 s late).
    @Test(.timeLimit(.minutes(3)))
    func preparedTrafficThatOverranItsRenderingEstimateStillLeavesOnTime() async throws {
        try await withRawTopics("vigil-loadgen-overrun") { _, broker in
            // An estimate of 0 s has every record due before rendering ends (20,000 records take
            // over half a second in a debug build), unless the rendering is redone.
            let (status, output) = try await runVigil([
                "loadgen", "--topology", repositoryPath("topology/vigil.yaml"), "--bootstrap", broker.bootstrap,
                "--rate", "5000", "--duration", "4s", "--attacks", "all=0", "--flush", "50ms", "--prepare",
                "--render-estimate", "0s"])
            #expect(status == 0, "\(output)")
            #expect(output.contains("rendering again"), "\(output)")
            let summary = jsonLines(output).last ?? [:]
            #expect(summary["events"] as? Int == 20_000, "\(summary)")
            #expect((summary["max_behind_ms"] as? Int).map { $0 < 500 } == true, "the first bursts left on time: \(summary)")
        }
    }

    /// `body` with a fresh folder and a local broker holding the raw topics (both removed after).
    private func withRawTopics(_ prefix: String, _ body: (URL, LocalBroker) async throws -> Void) async throws {
        let folder = try temporaryFolder(prefix)
        defer { try? FileManager.default.removeItem(at: folder) }
        let broker = try await LocalBroker.start(state: folder.appendingPathComponent("broker").path)
        defer { broker.stop() }
        for topic in Self.files { try broker.createTopic(topic) }
        try await body(folder, broker)
    }

    @Test func injectedAttacksRaiseExactlyTheExpectedAlertsAndTheBackgroundNone() async throws {
        // Ten minutes of traffic ending ten minutes ago (the Tor list judges recent events).
        let (folder, summary) = try await generate([
            "--count", "3000", "--span", "10m", "--start", "now-20m", "--seed", "42", "--eks-batch", "3",
            "--aks-batch", "4", "--attacks", "scan=2,eks-403=2,gke-403=1,tor=4,interactive=3"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let want = ["Kubernetes.Access.Scanning": 2, "Amazon.EKS.Audit.Multiple403": 2,
                    "Kubernetes.API.Multiple403.PublicIP": 3, "Kubernetes.API.IOC.Activity": 4,
                    "Kubernetes.Direct.Interactive.API.Request": 6]
        #expect(summary["expected_alerts"] as? [String: Int] == want, "\(summary)")
        let expectedText = String(decoding: contents(folder, "expected.txt"), as: UTF8.self)
        #expect(expectedText.contains("Kubernetes.API.IOC.Activity 4\n"), "\(expectedText)")
        let (status, output) = try await replayTraffic(folder)
        #expect(status == 0, "every record decodes: \(output)")
        #expect(alertsByRule(output) == want, "\(output)")

        let (quiet, _) = try await generate(["--count", "3000", "--span", "10m", "--start", "now-20m", "--seed", "42",
                                             "--attacks", "all=0"])
        defer { try? FileManager.default.removeItem(at: quiet) }
        let (quietStatus, quietOutput) = try await replayTraffic(quiet)
        #expect(quietStatus == 0, "\(quietOutput)")
        #expect(alertsByRule(quietOutput).isEmpty, "the background alone raises nothing: \(quietOutput)")
    }
}
