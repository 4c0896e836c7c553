import Foundation
import KafkaIOTesting
import Testing

/// ops/runbook.md, "Replay a time range", run as an operator runs it against a real broker:
/// `vigil run` turns the demo traffic into alerts; its ingest group's offsets are moved with
/// `vigil offsets reset` and the traffic is processed again, in place and into a scratch
/// topology; every replayed alert carries an id the first run gave. The first run's alerts
/// and dead letter are also checked against the alert contract (ops/contract).
@Suite struct RunbookReplayTests {
    static let rawTopics = ["eks-audit", "aks-audit", "gke-audit", "proc-exec"]

    @Test(.timeLimit(.minutes(8)))
    func aResetIngestGroupReplaysTheTrafficToTheSameAlertIds() async throws {
        let folder = try temporaryFolder("vigil-runbook")
        defer { try? FileManager.default.removeItem(at: folder) }
        let broker = try await LocalBroker.start(state: folder.appendingPathComponent("broker").path)
        defer { broker.stop() }
        let start = Date()
        try await generateDemoTraffic(into: folder)
        let expected = try expectedAlerts(folder).values.reduce(0, +)
        var lines: [String: Int] = [:]
        for topic in Self.rawTopics {
            try broker.createTopic(topic)
            let file = folder.appendingPathComponent("\(topic).jsonl").path
            lines[topic] = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count
            let (status, output) = try await runVigil(["produce", "--bootstrap", broker.bootstrap, "--topic", topic, file])
            #expect(status == 0, "\(output)")
        }
        let production = try topology(in: folder, prefix: "vigil", broker: broker)

        // 1. The production run: the demo's alerts.
        let first = try await runUntilAlerts(production, alertsTopic: "vigil.alerts", count: expected, broker: broker,
                                             log: folder.appendingPathComponent("run1.log"))
        #expect(first.log.contains("ingest: \(lines.values.reduce(0, +)) records"), "\(first.log)")
        let firstAlerts = first.records.compactMap(\.alert).filter { $0["kind"] as? String == "alert" }
        let firstIDs = Set(firstAlerts.compactMap { $0["alert_id"] as? String })
        #expect(firstAlerts.count == expected && firstIDs.count == expected, "\(first.records.map(\.value))")

        // The contract: alert values, alert records and the dead letter against their schemas.
        try await expectValid(first.records.map(\.value), schema: "alert.v1.schema.json", in: folder)
        try await expectValid(first.records.map(\.json), schema: "alert-record.v1.schema.json", in: folder)
        let (dlqStatus, dlqOutput) = try await runVigilForOutput(["consume", "--bootstrap", broker.bootstrap, "--topic", "vigil.dead-letter",
                                                         "--from-beginning", "--format", "json", "--max", "1", "--timeout", "30"])
        let deadLetters = dlqOutput.split(separator: "\n").map(String.init).filter { $0.hasPrefix("{") }
        #expect(dlqStatus == 0 && deadLetters.count == 1, "\(dlqOutput)")
        try await expectValid(deadLetters, schema: "dead-letter-record.v1.schema.json", in: folder)
        let headers = (jsonLines(deadLetters.joined(separator: "\n")).first?["headers"] as? [String: Any]) ?? [:]
        #expect(headers["vigil-dlq-reason"] as? String == "malformed_json" && headers["vigil-source-topic"] as? String == "eks-audit",
                "\(deadLetters)")

        // 2. The group's committed offsets are the ends of the raw topics.
        let shown = try await vigilOK(["offsets", "show", "--topology", production, "--bootstrap", broker.bootstrap])
        for topic in Self.rawTopics {
            #expect(shown.contains("vigil-ingest \(topic)[0] \(lines[topic] ?? -1)\n"), "\(shown)")
        }

        // 3. Replay in place: stopped group reset to the start, Vigil started again. Detect's
        // state holds every replayed event: nothing is counted again, no alert comes again.
        // The process events are also produced once more (new records, not copies): only
        // their stateless alerts are new, with new ids.
        let reset = try await vigilOK(["offsets", "reset", "--topology", production, "--bootstrap", broker.bootstrap,
                                       "--to", "earliest"])
        for topic in Self.rawTopics {
            #expect(reset.contains("vigil-ingest \(topic)[0] \(lines[topic] ?? -1) -> 0\n"), "\(reset)")
        }
        let (status, output) = try await runVigil(["produce", "--bootstrap", broker.bootstrap, "--topic", "proc-exec",
                                                   folder.appendingPathComponent("proc-exec.jsonl").path])
        #expect(status == 0, "\(output)")
        let interactive = "Kubernetes.Direct.Interactive.API.Request"
        let fresh = firstAlerts.filter { $0["rule_id"] as? String == interactive }.count
        #expect(fresh > 0)
        let again = try await runUntilAlerts(production, alertsTopic: "vigil.alerts", count: first.records.count + fresh,
                                             broker: broker, log: folder.appendingPathComponent("run2.log"))
        #expect(again.log.contains("ingest: \(lines.values.reduce(0, +) + (lines["proc-exec"] ?? 0)) records"),
                "every raw record read again, and the new ones: \(again.log)")
        let replayed = again.records.dropFirst(first.records.count).compactMap(\.alert)
        #expect(replayed.count == fresh && replayed.allSatisfy { $0["rule_id"] as? String == interactive }, "\(replayed)")
        #expect(Set(replayed.compactMap { $0["alert_id"] as? String }).isDisjoint(with: firstIDs), "\(replayed)")
        let summary = again.log.split(separator: "\n").last { $0.contains("already in state") } ?? ""
        let skipped = summary.split(separator: "(").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        #expect(skipped > 0, "the replayed events were recognised: \(again.log)")

        // 4. Replay into a scratch topology (own groups and topics, fresh state), its ingest
        // group set to a time before the traffic: exactly production's alert ids.
        let scratch = try topology(in: folder, prefix: "vigil-replay", broker: broker)
        let time = ISO8601DateFormatter().string(from: start.addingTimeInterval(-300))
        let scratchReset = try await vigilOK(["offsets", "reset", "--topology", scratch, "--bootstrap", broker.bootstrap,
                                              "--to", time])
        for topic in Self.rawTopics {
            #expect(scratchReset.contains("vigil-replay-ingest \(topic)[0] none -> 0\n"), "\(scratchReset)")
        }
        // (The process events produced again in step 3 are there too: their alerts are step 3's.)
        let clean = try await runUntilAlerts(scratch, alertsTopic: "vigil-replay.alerts", count: expected + fresh, broker: broker,
                                             log: folder.appendingPathComponent("run3.log"))
        let cleanIDs = Set(clean.records.compactMap(\.alert).filter { $0["kind"] as? String == "alert" }.compactMap { $0["alert_id"] as? String })
        let productionIDs = firstIDs.union(replayed.compactMap { $0["alert_id"] as? String })
        #expect(cleanIDs == productionIDs, "scratch \(cleanIDs.sorted()) vs production \(productionIDs.sorted())")
    }

    /// A refused reset says why and commits nothing: an unknown topic, a malformed time.
    @Test func aResetWithABadTargetIsRefusedAndNamesTheProblem() async throws {
        let (status, output) = try await runVigil(["offsets", "reset", "--topology", repositoryPath("topology/vigil.yaml"),
                                                   "--to", "yesterday"])
        #expect(status != 0)
        #expect(output.contains("--to must be earliest, latest or an RFC 3339 time"), "\(output)")
    }

    // MARK: Steps

    struct Record {
        var json: String
        var value: String
        var alert: [String: Any]? { jsonLines(value).first }
    }

    /// Starts `vigil run`, reads `count` records of the alerts topic (JSON view), stops Vigil
    /// with SIGINT (flush, commit, leave) and returns the records and Vigil's output.
    private func runUntilAlerts(_ topology: String, alertsTopic: String, count: Int, broker: LocalBroker,
                                log: URL) async throws -> (records: [Record], log: String) {
        try broker.createTopic(alertsTopic)
        // Any free port for /metrics: the default 0.0.0.0:9464 may be taken on a shared machine.
        let vigil = try await VigilProcess.start(["run", "--topology", topology, "--bootstrap", broker.bootstrap,
                                                  "--http-listen", "127.0.0.1:0"], log: log)
        let (status, output) = try await runVigilForOutput(["consume", "--bootstrap", broker.bootstrap, "--topic", alertsTopic,
                                                   "--from-beginning", "--format", "json", "--max", String(count),
                                                   "--timeout", "90"])
        let text = await vigil.stop()
        #expect(status == 0, "\(output)")
        let records = output.split(separator: "\n").compactMap { line -> Record? in
            guard let object = jsonLines(String(line)).first, let value = object["value"] as? String else { return nil }
            return Record(json: String(line), value: value)
        }
        #expect(records.count == count, "\(output)\n--- vigil run:\n\(text)")
        return (records, text)
    }

    /// The default topology with Vigil's groups and topics renamed after `prefix`, its paths
    /// absolute, and the broker's session settings; the clock may lead by 20 minutes, as in
    /// `make demo` (ops/demo.sh): the demo traffic is stamped around the current hour, some of
    /// it (the scan's window-closing request among it) up to ~20 minutes ahead, so with the
    /// default 5 minutes the scanning alert came only at some minutes of the hour.
    private func topology(in folder: URL, prefix: String, broker: LocalBroker) throws -> String {
        var text = try String(contentsOfFile: repositoryPath("topology/vigil.yaml"), encoding: .utf8)
        let replacements = [
            ("vigil-ingest", "\(prefix)-ingest"), ("vigil-detect", "\(prefix)-detect"),
            ("name: vigil.", "name: \(prefix)."),
            ("  path: rules ", "  path: \(repositoryPath("topology/rules")) "), ("../geo/", repositoryPath("geo") + "/"),
            ("max_clock_lead: 5m ", "max_clock_lead: 20m "),
        ]
        for (from, to) in replacements {
            #expect(text.contains(from), "topology/vigil.yaml has no '\(from)'")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let file = folder.appendingPathComponent("\(prefix).yaml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    private func vigilOK(_ arguments: [String]) async throws -> String {
        let (status, output) = try await runVigil(arguments)
        #expect(status == 0, "vigil \(arguments.joined(separator: " ")): \(output)")
        return output
    }
}

/// Validates each JSON text against a schema of ops/contract with check-jsonschema (installed
/// by ops/setup.sh); expects success.
func expectValid(_ documents: [String], schema: String, in folder: URL,
                 sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let (status, output) = try await checkJSONSchema(documents, schema: schema, in: folder)
    #expect(status == 0, "\(schema): \(output)", sourceLocation: sourceLocation)
}

func checkJSONSchema(_ documents: [String], schema: String, in folder: URL) async throws -> (status: Int32, output: String) {
    let dir = folder.appendingPathComponent("instances-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let files = try documents.enumerated().map { i, text in
        let file = dir.appendingPathComponent("\(i).json").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
    return try await runTool(repositoryPath(".deps/prefix/bin/check-jsonschema"),
                             ["--schemafile", repositoryPath("ops/contract/" + schema)] + files)
}

/// The demo's traffic (`vigil loadgen --preset demo`, what `make demo` sends) into `folder`:
/// one JSON-lines file per raw topic and expected.txt.
func generateDemoTraffic(into folder: URL, now: Int? = nil) async throws {
    let (status, output) = try await runVigil(["loadgen", "--preset", "demo", "--topology", repositoryPath("topology/vigil.yaml"),
                                               "--out", folder.path] + (now.map { ["--now", "\($0)"] } ?? []))
    #expect(status == 0, "\(output)")
}

/// `expected.txt` of generated traffic: rule id → the alerts (kind alert) it must raise.
func expectedAlerts(_ folder: URL) throws -> [String: Int] {
    let text = try String(contentsOf: folder.appendingPathComponent("expected.txt"), encoding: .utf8)
    return Dictionary(uniqueKeysWithValues: text.split(separator: "\n").map { line in
        let parts = line.split(separator: " ")
        return (String(parts[0]), Int(parts[1]) ?? -1)
    })
}

/// A broker from ops/broker.sh (Tansu on a free loopback port), stopped by `stop()`.
struct LocalBroker {
    let bootstrap: String
    let state: String

    static func start(state: String) async throws -> LocalBroker {
        let (status, output) = try await runTool("/bin/bash", [repositoryPath("ops/broker.sh"), "start", "--state", state])
        guard status == 0, let address = output.split(separator: "\n").last(where: { $0.hasPrefix("127.0.0.1:") }).map(String.init) else {
            throw BrokerError(description: "broker.sh start: \(output)")
        }
        return LocalBroker(bootstrap: address, state: state)
    }

    func createTopic(_ name: String, partitions: Int = 1) throws {
        try Self.script(["create-topic", bootstrap, name, String(partitions)])
    }

    func stop() {
        try? Self.script(["stop", state])
    }

    private static func script(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repositoryPath("ops/broker.sh")] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BrokerError(description: "broker.sh \(arguments.joined(separator: " ")): \(process.terminationStatus)")
        }
    }

    struct BrokerError: Error, CustomStringConvertible { var description: String }
}

/// `vigil` running in the background as an operator runs it, detached the way ops/broker.sh
/// detaches the broker: a short-lived bash starts it in a session of its own, with an empty
/// signal mask (a Swift test process blocks signals, and children inherit the mask) and no
/// inherited descriptors, and prints its pid. (Started directly by Foundation's Process and
/// stripped of its descriptors, it would make Process take it for ended and wait for it,
/// holding up every other child's termination.)
struct VigilProcess {
    let pid: pid_t
    let log: URL

    static func start(_ arguments: [String], log: URL) async throws -> VigilProcess {
        let script = """
            LD_LIBRARY_PATH= python3 -c 'import os, signal, sys
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.closerange(3, 65536)
            os.setsid()
            os.execv(sys.argv[1], sys.argv[1:])' "$@" >"$LOG" 2>&1 </dev/null &
            echo $!
            """
        var environment = ProcessInfo.processInfo.environment
        environment["LOG"] = log.path
        let (status, output) = try await runTool("/bin/bash", ["-c", script, "vigil", vigilBinary.path] + arguments,
                                                 environment: environment)
        guard status == 0, let pid = pid_t(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LocalBroker.BrokerError(description: "could not start vigil: \(output)")
        }
        return VigilProcess(pid: pid, log: log)
    }

    /// Running, and not a zombie waiting for init to reap it.
    var alive: Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !(stat.split(separator: ")").last?.dropFirst().hasPrefix("Z") ?? false)
    }

    /// SIGINT (graceful: flush, commit, leave the groups), then waits for the exit (SIGKILL
    /// after 60 s); returns everything the process printed.
    func stop() async -> String {
        kill(pid, SIGINT)
        let deadline = ContinuousClock.now + .seconds(60)
        while alive && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        if alive { kill(pid, SIGKILL) }
        return (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    }
}
