import Foundation
import KafkaIOTesting
import Testing

@Suite struct ReplayCommandTests {
    static let logs = ["eks-a.jsonl", "eks-b.jsonl"].map { repositoryPath("Tests/DetectionTests/Fixtures/replay/" + $0) }
    static let tor = repositoryPath("Tests/EnrichmentTests/Fixtures/tor/exit-addresses-2024-03-12.txt")

    private func replay(_ extra: [String] = []) async throws -> (status: Int32, output: String, alerts: [[String: Any]]) {
        let (status, output) = try await runVigil(["replay", "--rules", repositoryPath("topology/rules"), "--tor", Self.tor]
                                                  + extra + Self.logs)
        return (status, output, jsonLines(output).filter { $0["alert_id"] != nil })
    }

    @Test func replayWritesTheExpectedAlertsAndReportsTheDeadLetter() async throws {
        let (status, output, alerts) = try await replay()
        #expect(status == 1, "a dead-lettered line makes the exit status 1: \(output)")
        let raised = alerts.filter { $0["kind"] as? String == "alert" }
        #expect(raised.compactMap { $0["rule_id"] as? String }.sorted()
                == ["Amazon.EKS.Audit.Multiple403", "Kubernetes.API.IOC.Activity", "Kubernetes.API.Multiple403.PublicIP"],
                "ten denials from 5.5.5.5 within 30 minutes, nine from 8.8.8.8, a Tor exit: \(output)")
        let unified = try #require(raised.first { $0["rule_id"] as? String == "Kubernetes.API.Multiple403.PublicIP" })
        #expect((unified["source"] as? [String: Any])?["ip"] as? String == "5.5.5.5")
        #expect(unified["count"] as? Int == 10)
        let events = try #require(unified["events"] as? [[String: Any]])
        #expect(events.allSatisfy { ($0["file"] as? String)?.hasSuffix(".jsonl") == true && $0["line"] is Int })
        #expect(output.contains("eks-a.jsonl:14: malformed_json"), "\(output)")
        #expect(output.contains("36 records") == false && output.contains("35 records"), "\(output)")
        #expect(output.contains("34 events") && output.contains("1 dead-lettered"), "\(output)")
    }

    @Test func aSecondReplayYieldsTheSameAlertIds() async throws {
        let first = try await replay().alerts.compactMap { $0["alert_id"] as? String }
        let second = try await replay().alerts.compactMap { $0["alert_id"] as? String }
        #expect(!first.isEmpty && first == second)
    }

    @Test func aFormatPrefixOverridesTheLogTypeOption() async throws {
        let file = Self.logs[0]
        let (status, output) = try await runVigil(["replay", "--rules", repositoryPath("topology/rules"), "--log-type", "gke", file])
        #expect(status == 1, "\(output)")
        #expect(output.contains("20 records, 0 events") && output.contains("20 dead-lettered"), "\(output)")
        #expect(output.contains("eks-a.jsonl:1: missing_field"), "every rejected line is listed: \(output)")
        let (_, prefixed) = try await runVigil(["replay", "--rules", repositoryPath("topology/rules"), "--log-type", "gke", "eks:" + file])
        #expect(prefixed.contains("20 records, 19 events") && prefixed.contains("1 dead-lettered"), "\(prefixed)")
    }

    @Test func aTorListOfTodayDoesNotJudgeOldEventsUnlessAskedTo() async throws {
        let folder = try temporaryFolder("vigil-replay")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bulk = folder.appendingPathComponent("bulk.txt")
        try "185.241.208.232\n".write(to: bulk, atomically: true, encoding: .utf8)
        let base = ["replay", "--rules", repositoryPath("topology/rules"), "--tor", bulk.path]
        let (_, atEventTime) = try await runVigil(base + Self.logs)
        let rules = jsonLines(atEventTime).compactMap { $0["rule_id"] as? String }
        #expect(!rules.contains("Kubernetes.API.IOC.Activity"), "a list fetched today says nothing of 2024: \(atEventTime)")
        #expect(rules.contains("Kubernetes.API.Multiple403.PublicIP"), "\(atEventTime)")
        let (_, ignoringTime) = try await runVigil(base + ["--tor-ignore-time"] + Self.logs)
        #expect(jsonLines(ignoringTime).contains { $0["rule_id"] as? String == "Kubernetes.API.IOC.Activity" },
                "\(ignoringTime)")
    }
}
