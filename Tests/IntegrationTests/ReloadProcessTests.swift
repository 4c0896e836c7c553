import Foundation
import KafkaIO
import KafkaIOTesting
import Testing

/// SIGHUP to a running `vigil run` (issue 6 item 6): the rules folder is read again now (its
/// own check is off here), a new rule alerts for the events after it, a broken set is refused
/// with its file:line in the log while the rules in force go on; GeoIP and Tor reload too.
@Suite struct ReloadProcessTests {
    /// Alerts per rule id among alert records.
    static func byRule(_ records: [ConsumerRecord]) -> [String: Int] {
        Dictionary(grouping: records.compactMap { $0.headerText("vigil-rule-id") }, by: { $0 }).mapValues(\.count)
    }

    @Test(.timeLimit(.minutes(4)))
    func sighupReloadsTheRulesAndRefusesABrokenSet() async throws {
        try await withBroker { broker in
            try await withProcesses { processes in
                let run = try await RunSetup(broker, "hup")
                let rules = run.folder + "/rules"
                try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
                try testStatelessRule("Test.Hup.A").write(toFile: rules + "/a.yaml", atomically: true, encoding: .utf8)
                let text = try String(contentsOfFile: run.topology, encoding: .utf8)
                let seedRules = repositoryPath("topology/rules")
                #expect(text.contains("rules: \(seedRules)\n"))
                try text.replacingOccurrences(of: "rules: \(seedRules)\n", with: "rules: {path: \(rules), reload_check: 0s}\n")
                    .write(toFile: run.topology, atomically: true, encoding: .utf8)
                let denials = { (range: Range<Int>) in try RunProcessTests.denials(run.name, range, ips: ["176.95.188.101"]) }

                let vigil = try run.start("hup", in: processes)
                #expect(await vigil.waitFor("detect: partitions assigned"), "\(processes.logs)")
                try await RunProcessTests.send(try denials(0..<3), to: run.raw, broker)
                let first = try await readTopic(broker, "\(run.name).alerts", settle: .zero) { $0.count >= 3 }
                #expect(Self.byRule(first) == ["Test.Hup.A": 3], "\(processes.logs)")

                // A new rule file, then SIGHUP: it alerts for the events after the reload.
                try testStatelessRule("Test.Hup.B").write(toFile: rules + "/b.yaml", atomically: true, encoding: .utf8)
                kill(vigil.pid, SIGHUP)
                #expect(await vigil.waitFor("rules: reloaded"), "\(processes.logs)")
                #expect(await vigil.waitFor("GeoIP database reloaded"), "\(processes.logs)")
                try await RunProcessTests.send(try denials(3..<6), to: run.raw, broker)
                let second = try await readTopic(broker, "\(run.name).alerts") { $0.count >= 9 }
                #expect(Self.byRule(second) == ["Test.Hup.A": 6, "Test.Hup.B": 3], "\(processes.logs)")

                // A broken file, then SIGHUP: refused with its place, the two rules go on.
                try testStatelessRule("Test.Hup.C").replacingOccurrences(of: "response.code == 403", with: "response.code ==")
                    .write(toFile: rules + "/c.yaml", atomically: true, encoding: .utf8)
                kill(vigil.pid, SIGHUP)
                #expect(await vigil.waitFor("new rule set refused"), "\(processes.logs)")
                #expect(vigil.output.contains("c.yaml:5:"), "\(vigil.output.suffix(3000))")
                try await RunProcessTests.send(try denials(6..<8), to: run.raw, broker)
                let third = try await readTopic(broker, "\(run.name).alerts") { $0.count >= 13 }
                #expect(Self.byRule(third) == ["Test.Hup.A": 8, "Test.Hup.B": 5], "\(processes.logs)")
                #expect(await vigil.stop() == 0, "\(processes.logs)")
            }
        }
    }
}
