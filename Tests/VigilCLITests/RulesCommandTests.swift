import Foundation
import KafkaIOTesting
import Testing

/// A fresh temporary folder, removed by the caller.
func temporaryFolder(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct RulesCommandTests {
    static let brokenRule = """
        id: Broken.Rule
        title: Denied [{source.ip]
        severity: urgent
        log_types: [Amazon.EKS.Audit]
        where: response.code == 403 and and verb == "get"
        """

    @Test func rulesTestPassesTheSeedRulesAndAllFifteenPantherCases() async throws {
        let (status, output) = try await runVigil(["rules", "test", "--verbose", repositoryPath("topology/rules")])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n")
        let panther = lines.filter { $0.hasPrefix("ok   ") && $0.contains("/tests/panther/") }
        #expect(panther.count == 15, "\(output)")
        let last = try #require(lines.last)
        #expect(last.hasSuffix(" passed, 0 failed"), "\(output)")
        #expect(Int(last.prefix { $0 != " " }) ?? 0 >= 15 + 6)
        #expect(!output.contains("differs from the original"), "titles and dedup keys as the originals built them: \(output)")
    }

    @Test func aFailingCaseIsPrintedWithWhyAndFailsTheRun() async throws {
        let folder = try temporaryFolder("vigil-rules")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = repositoryPath("topology/rules/tests/panther/Kubernetes.API.Multiple403.PublicIP/05-200-response-not-403.json")
        let text = try String(contentsOfFile: source, encoding: .utf8)
        let flipped = text.replacingOccurrences(of: #""expected": false"#, with: #""expected": true"#)
        #expect(flipped != text)
        let file = folder.appendingPathComponent("flipped.json")
        try flipped.write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try await runVigil(["rules", "test", repositoryPath("topology/rules/Kubernetes.API.Multiple403.PublicIP.yaml"), file.path])
        #expect(status == 1, "\(output)")
        #expect(output.contains("FAIL Kubernetes.API.Multiple403.PublicIP \"200 Response (Not 403)\" (\(file.path))"), "\(output)")
        #expect(output.contains("expected a match; the rule did not match"), "\(output)")
        #expect(output.hasSuffix(" passed, 1 failed\n"), "the rule's own tests pass, the flipped case fails: \(output)")
    }

    @Test func sequenceTestsRunThroughTheEngineAndAWrongOneFails() async throws {
        let (status, output) = try await runVigil(["rules", "test", "--geoip",
                                                   repositoryPath("Tests/EnrichmentTests/Fixtures/GeoIP2-City-Test.mmdb"),
                                                   repositoryPath("Tests/DetectionTests/Fixtures/rule-tests")])
        #expect(status == 0, "\(output)")
        #expect(output.hasSuffix("8 passed, 0 failed\n"), "\(output)")
        let (failStatus, failOutput) = try await runVigil(["rules", "test", repositoryPath("Tests/DetectionTests/Fixtures/rule-tests-failing")])
        #expect(failStatus == 1, "\(failOutput)")
        #expect(failOutput.contains("expected 1 alert; the engine raised 0 from 9 events"), "\(failOutput)")
        #expect(failOutput.hasSuffix("3 passed, 1 failed\n"), "\(failOutput)")
    }

    @Test func aBrokenRuleFileFailsTestAndValidateListingEveryProblem() async throws {
        let folder = try temporaryFolder("vigil-rules")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("broken.yaml")
        try Self.brokenRule.write(to: file, atomically: true, encoding: .utf8)
        try String(contentsOfFile: repositoryPath("topology/rules/Kubernetes.API.IOC.Activity.yaml"), encoding: .utf8)
            .write(to: folder.appendingPathComponent("good.yaml"), atomically: true, encoding: .utf8)

        let (status, output) = try await runVigil(["rules", "validate", folder.path])
        #expect(status == 1, "\(output)")
        #expect(output.contains("broken.yaml:2:"), "the title: \(output)")
        #expect(output.contains("broken.yaml:3:"), "the severity: \(output)")
        #expect(output.contains("broken.yaml:5:"), "the condition: \(output)")
        #expect(output.contains("^"), "a caret under the offending text: \(output)")
        #expect(!output.contains("good.yaml:"), "\(output)")

        let (testStatus, testOutput) = try await runVigil(["rules", "test", folder.path])
        #expect(testStatus == 1, "\(testOutput)")
        #expect(testOutput.contains("FAIL \(file.path):5:"), "\(testOutput)")
        #expect(testOutput.hasSuffix(" passed, 3 failed\n"), "the good rule's tests pass, each problem fails: \(testOutput)")

        let (cleanStatus, cleanOutput) = try await runVigil(["rules", "validate", repositoryPath("topology/rules")])
        #expect(cleanStatus == 0, "\(cleanOutput)")
        #expect(cleanOutput.contains("5 rules, ") && cleanOutput.contains(" 0 problems"), "\(cleanOutput)")
    }
}
