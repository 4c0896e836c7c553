import Foundation
import KafkaIO
import KafkaIOTesting
import Testing

/// `vigil run` as separate processes against the real broker (issue 6 item 9): a group of two
/// splits the partitions, a process killed with SIGKILL comes back with its state, poison
/// records go to the dead-letter topic while the rest goes on.
@Suite struct RunProcessTests {
    /// Ten denials of each IP, the i-th of IP k on raw partition (i + k) mod 4 (so each IP's
    /// events cross every raw partition), with the test's ids.
    static func denials(_ name: String, _ range: Range<Int>, ips: [String] = publicIPs) throws -> [(line: String, partition: Int32)] {
        try range.flatMap { i in
            try ips.enumerated().map { k, ip in (try denial(ip: ip, i, id: name), Int32((i + k) % 4)) }
        }
    }

    static func send(_ records: [(line: String, partition: Int32)], to topic: String, _ broker: TestBroker,
                     pause: Duration = .zero) async throws {
        let p = try producer(broker)
        for r in records {
            _ = try await p.send(ProducerRecord(topic: topic, key: nil, value: Array(r.line.utf8), partition: r.partition))
            if pause > .zero { try await Task.sleep(for: pause) }
        }
        await p.close()
    }

    @Test(.timeLimit(.minutes(4)))
    func twoProcessesInOneGroupSplitThePartitionsAndEachIPsThresholdIsExactAcrossRawPartitions() async throws {
        try await withBroker { broker in
            try await withProcesses { processes in
                let run = try await RunSetup(broker, "two")
                let (name, raw) = (run.name, run.raw)
                let records = try Self.denials(name, 0..<10)
                let expected = try await replayedAlertIDs(records.map(\.line))
                #expect(expected.count == 2 * publicIPs.count, "both 403 threshold rules, per IP")

                let a = try run.start("a", in: processes)
                #expect(await a.waitFor("detect: partitions assigned"), "\(processes.logs)")
                let b = try run.start("b", in: processes)
                let joined = await b.waitFor("detect: partitions assigned")
                let joinedIngest = await b.waitFor("ingest: partitions assigned")
                #expect(joined && joinedIngest, "\(processes.logs)")

                // Poison among the denials: not JSON, binary, a truncated event.
                let poison: [(line: String, partition: Int32)] = [
                    ("{not json", 0), ("\u{1}\u{2}\u{3}binary", 1), (String(records[0].line.prefix(200)), 2)]
                try await Self.send(Array(records[..<40]) + poison + Array(records[40...]), to: raw, broker)

                let alerts = try await readTopic(broker, "\(name).alerts") { alertIDs($0).count >= expected.count }
                let dead = try await readTopic(broker, "\(name).dlq") { $0.count >= poison.count }
                let statusA = await a.stop(), statusB = await b.stop()
                #expect(statusA == 0 && statusB == 0, "\(processes.logs)")
                #expect(alertIDs(alerts) == expected, "\(processes.logs)")

                // Both processes did part of each stage's work.
                for p in [a, b] {
                    #expect((p.count("ingest: ") ?? 0) > 0 && (p.count("detect: ") ?? 0) > 0, "\(p.output.suffix(3000))")
                }
                #expect((a.count("ingest: ") ?? 0) + (b.count("ingest: ") ?? 0) >= records.count + poison.count)

                // The poison went to the dead-letter topic with its reason and source, and the rest went on.
                let sources = Set(dead.map { "\($0.headerText("vigil-source-partition") ?? "?")@\($0.headerText("vigil-source-offset") ?? "?")" })
                #expect(sources.count == poison.count, "\(dead.map(\.headers))")
                #expect(dead.allSatisfy { $0.headerText("vigil-source-topic") == raw && $0.headerText("vigil-dlq-reason") != nil })
                #expect(Set(dead.compactMap(\.value)) == Set(poison.map { Array($0.line.utf8) }))
            }
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func aProcessKilledMidStreamComesBackWithItsStateAndNoAlertIsMissing() async throws {
        try await withBroker { broker in
            try await withProcesses { processes in
                let run = try await RunSetup(broker, "kill")
                let (name, raw) = (run.name, run.raw)
                // Nine denials per IP, then the tenth of each while the process is killed.
                let nine = try Self.denials(name, 0..<9)
                let tenth = try Self.denials(name, 9..<10)
                let expected = try await replayedAlertIDs((nine + tenth).map(\.line))
                #expect(expected.count == 2 * publicIPs.count)

                let first = try run.start("first", in: processes)
                let assigned = await first.waitFor("detect: partitions assigned")
                #expect(assigned, "\(processes.logs)")
                try await Self.send(nine, to: raw, broker)
                // Once the changelog holds every key's state (two rules per IP) and a commit
                // interval (1 s) or two have passed, the nine are committed: a restart must not
                // read them again, their counts must come from the changelog.
                let keys = 2 * publicIPs.count
                _ = try await readTopic(broker, "\(name).changelog", settle: .zero) { records in
                    Set(records.compactMap { r in r.value == nil ? nil : r.key.map { String(decoding: $0, as: UTF8.self) } }
                        .filter { $0.hasPrefix("e/") }).count >= keys
                }
                try await Task.sleep(for: .seconds(3))
                // The tenths go out one by one; the process is killed half way through them.
                let sending = Task { try await Self.send(tenth, to: raw, broker, pause: .milliseconds(150)) }
                try await Task.sleep(for: .milliseconds(600))
                await first.kill9()
                try await sending.value
                #expect(first.exitStatus != 0)

                let second = try run.start("second", in: processes)
                let alerts = try await readTopic(broker, "\(name).alerts", settle: .seconds(5)) { alertIDs($0).count >= expected.count }
                #expect(await second.stop() == 0, "\(processes.logs)")
                // Complete; records read again after the kill may raise an alert again: same id.
                #expect(alertIDs(alerts) == expected, "\(processes.logs)")
                // Each alert counts the ten denials of its IP once (nothing read again counted twice).
                let counts = alerts.filter { $0.headerText("vigil-alert-kind") == "alert" }.map { r in
                    ((try? JSONSerialization.jsonObject(with: Data(r.value ?? []))) as? [String: Any])?["count"] as? Int
                }
                #expect(!counts.isEmpty && counts.allSatisfy { $0 == 10 }, "\(counts)")
                #expect((second.count("detect: ") ?? .max) < nine.count, "the nine were not read again: \(second.output.suffix(3000))")
                // The restarted process read the state back from the changelog.
                let restored = second.output.split(separator: "\n").filter { $0.contains("detect: state restored") }
                    .compactMap { line in line.firstRange(of: "entries=").map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } }
                #expect(restored.reduce(0, +) > 0, "\(second.output.suffix(3000))")
            }
        }
    }

    /// The broker stops while `vigil run` is running, stays away longer than a session timeout
    /// and comes back empty (Tansu keeps nothing: topics, offsets, groups and producer ids are
    /// gone). The topics are created again at once, as an operator would (the raw one is the
    /// shippers'; Vigil's own it would make itself on its next start, but on Tansu a client's
    /// metadata request for a missing topic auto-creates it first, and a group subscribed to
    /// such a topic is never assigned). Vigil waits, its stages fail on producers the new broker
    /// does not know and start again with new clients, and it goes on: the events sent after the
    /// restart raise their alerts, and the process never exits. What the old broker held went
    /// with it.
    @Test(.timeLimit(.minutes(5)))
    func theBrokerStoppedAndRestartedEmptyVigilWaitsReconnectsAndGoesOn() async throws {
        var broker = try await TestBroker.start(port: freePort())
        do {
            try await withProcesses { processes in
                // A producer the new broker neither takes records from nor fences fails after the
                // delivery timeout (120 s by default) and its stage starts again: 20 s here.
                let run = try await RunSetup(broker, "restart", maxPollInterval: "10s", deliveryTimeout: "20s")
                let before = try Self.denials(run.name, 0..<10, ips: Array(publicIPs[..<4]))
                let after = try Self.denials(run.name, 0..<10, ips: Array(publicIPs[4...]))
                let expectedBefore = try await replayedAlertIDs(before.map(\.line))
                let expectedAfter = try await replayedAlertIDs(after.map(\.line))
                #expect(expectedBefore.count == 8 && expectedAfter.count == 8)

                let vigil = try run.start("vigil", in: processes)
                let assigned = await vigil.waitFor("detect: partitions assigned")
                #expect(assigned, "\(processes.logs)")
                try await Self.send(before, to: run.raw, broker)
                let first = try await readTopic(broker, "\(run.name).alerts") { alertIDs($0).count >= expectedBefore.count }
                #expect(alertIDs(first) == expectedBefore, "\(processes.logs)")

                broker = try await broker.restart(after: .seconds(8))
                for (topic, partitions) in [(run.raw, 4), ("\(run.name).events", 4), ("\(run.name).changelog", 4),
                                            ("\(run.name).alerts", 1), ("\(run.name).dlq", 1)] {
                    try await broker.createTopic(topic, partitions: partitions)
                }
                try await Self.send(after, to: run.raw, broker)
                let second = try await readTopic(broker, "\(run.name).alerts", timeout: .seconds(75)) {
                    alertIDs($0).count >= expectedAfter.count
                }
                #expect(vigil.exitStatus == nil, "vigil run kept running: \(processes.logs)")
                #expect(vigil.output.contains("detect: failed; starting again"), "\(processes.logs)")
                // Tansu, about one run in three: the detect stage's consumer of the new attempt is
                // never assigned (Sources/Runtime/README.md, "Failures").
                withKnownIssue("Tansu leaves the detect group of a restarted stage unassigned", isIntermittent: true) {
                    #expect(alertIDs(second) == expectedAfter, "\(processes.logs)")
                }
                #expect(await vigil.stop() == 0, "\(processes.logs)")
            }
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }
}
