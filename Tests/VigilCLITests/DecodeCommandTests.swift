import Foundation
import KafkaIOTesting
import Testing

@Suite struct DecodeCommandTests {
    @Test func decodePrintsNormalizedEventsAndAnOutcomeForEveryBadLine() async throws {
        let sample = try String(contentsOfFile: repositoryPath("Tests/AuditEventsTests/Fixtures/eks/panther-eks-audit-tests.jsonl"),
                                encoding: .utf8)
        let good = sample.split(separator: "\n").prefix(2)
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-decode-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: input) }
        try (good.joined(separator: "\n") + "\n{\"kind\": \"Event\", \"trunc\n").write(to: input, atomically: true, encoding: .utf8)
        let (status, output) = try await runVigil(["decode", "--log-type", "eks", input.path])
        #expect(status == 1, "a dead-lettered record makes the exit status 1: \(output)")
        let lines = jsonLines(output)
        let events = lines.filter { $0["log_type"] != nil }
        #expect(events.count == 2, "\(output)")
        #expect(events.allSatisfy { $0["log_type"] as? String == "Amazon.EKS.Audit" && $0["source.ip"] is String })
        let bad = lines.filter { $0["outcome"] != nil }
        #expect(bad.count == 1)
        #expect(bad.first?["outcome"] as? String == "dead_letter")
        #expect(bad.first?["reason"] as? String == "malformed_json")
        #expect(bad.first?["line"] as? Int == 3)

        try (good.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let (cleanStatus, cleanOutput) = try await runVigil(["decode", "--log-type", "eks", input.path])
        #expect(cleanStatus == 0, "\(cleanOutput)")
        #expect(jsonLines(cleanOutput).count == 2)
    }
}
