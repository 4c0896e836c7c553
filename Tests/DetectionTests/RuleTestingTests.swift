import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// `vigil rules test` logic: Panther case files, inline tests, the runner's verdicts.
@Suite struct RuleTestingTests {
    static let panther = RuleFixtures.seedRules + "/tests/panther"

    private func seedSuite() -> RuleTestSuite {
        RuleTestSuite.load(paths: [RuleFixtures.seedRules])
    }

    private func pantherCase(_ rule: String, _ prefix: String) throws -> RuleTestCase {
        let directory = Self.panther + "/" + rule
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory)
            .first { $0.hasPrefix(prefix) })
        let file = directory + "/" + name
        return try PantherCaseFile.parse(Array(#require(FileManager.default.contents(atPath: file))), file: file).get()
    }

    /// The same case with other expectations or data.
    private func variant(_ c: RuleTestCase, records: [[UInt8]]? = nil, tor: [String]? = nil,
                         expectation: RuleTestCase.Expectation? = nil, title: String? = nil) -> RuleTestCase {
        RuleTestCase(ruleID: c.ruleID, name: c.name, origin: c.origin, records: records ?? c.records,
                     logType: c.logType, torExitNodes: tor ?? c.torExitNodes,
                     expectation: expectation ?? c.expectation, observedTitle: title ?? c.observedTitle,
                     observedDedup: c.observedDedup)
    }

    @Test func theFifteenPantherCasesPassAgainstTheSeedRules() {
        let suite = seedSuite()
        #expect(suite.problems.isEmpty, "\(suite.problems)")
        let panther = suite.cases.filter { if case .caseFile = $0.origin { return true } else { return false } }
        #expect(panther.count == 15)
        let results = RuleTestRunner(rules: suite.rules).run(panther)
        for result in results {
            #expect(result.passed, "\(result.testCase.origin): \(result.failure ?? "")")
        }
        #expect(results.count(where: { $0.testCase.expectation == .match(true) }) == 7)
    }

    @Test func theTitlesAndDedupKeysTheOriginalsProducedAreRenderedAlike() {
        let suite = seedSuite()
        let runner = RuleTestRunner(rules: suite.rules, strictCrossCheck: true)
        let checked = suite.cases.filter { $0.observedTitle != nil || $0.observedDedup != nil }
        #expect(checked.count == 7)
        for result in runner.run(checked) {
            #expect(result.passed && result.notes.isEmpty,
                    "\(result.testCase.origin): \(result.failure ?? "") \(result.notes)")
        }
    }

    @Test func everyInlineTestOfTheSeedRulesPasses() {
        let suite = seedSuite()
        let inline = suite.cases.filter { if case .inline = $0.origin { return true } else { return false } }
        #expect(!inline.isEmpty)
        for result in RuleTestRunner(rules: suite.rules).run(inline) {
            #expect(result.passed, "\(result.testCase.origin): \(result.failure ?? "")")
        }
    }

    @Test func aCaseExpectingTheOppositeFailsAndSaysWhy() throws {
        let suite = seedSuite()
        let runner = RuleTestRunner(rules: suite.rules)
        let match = try pantherCase("Amazon.EKS.Audit.Multiple403", "03")
        let flipped = runner.run(variant(match, expectation: .match(false)))
        #expect(!flipped.passed)
        #expect(flipped.failure == "expected no match; the rule matched")

        let noMatch = try pantherCase("Amazon.EKS.Audit.Multiple403", "02")
        let wrong = runner.run(variant(noMatch, expectation: .match(true)))
        #expect(!wrong.passed)
        #expect(wrong.failure?.hasPrefix("expected a match; the rule did not match (condition: ") == true)
    }

    @Test func theTorSetOfACaseComesFromItsPantherEnrichment() throws {
        let runner = RuleTestRunner(rules: seedSuite().rules)
        let tor = try pantherCase("Kubernetes.API.IOC.Activity", "01")
        #expect(tor.torExitNodes == ["1.2.3.4"])
        #expect(runner.run(tor).passed)
        let withoutTor = runner.run(variant(tor, tor: []))
        #expect(!withoutTor.passed, "without the Tor set the event is no Tor activity")
        let otherTor = runner.run(variant(tor, tor: ["1.2.3.5"]))
        #expect(!otherTor.passed)
    }

    @Test func aDifferentTitleIsANoteOrAFailureWhenStrict() throws {
        let rules = seedSuite().rules
        let c = variant(try pantherCase("Kubernetes.API.Multiple403.PublicIP", "01"), title: "something else")
        let lenient = RuleTestRunner(rules: rules).run(c)
        #expect(lenient.passed)
        #expect(lenient.notes == [#"title "Multiple 403 responses from public IP [5.5.5.5]" differs from the original's "something else""#])
        let strict = RuleTestRunner(rules: rules, strictCrossCheck: true).run(c)
        #expect(!strict.passed)
    }

    @Test func aCaseForAnUnknownRuleOrABrokenLogFails() throws {
        let c = try pantherCase("Kubernetes.API.Multiple403.PublicIP", "01")
        let none = RuleTestRunner(rules: []).run(c)
        #expect(none.failure == "no rule with id 'Kubernetes.API.Multiple403.PublicIP' was loaded")
        let broken = RuleTestRunner(rules: seedSuite().rules).run(variant(c, records: [Array(#"{"kind": "Ev"#.utf8)]))
        #expect(broken.failure?.hasPrefix("the log does not decode: malformed_json") == true, "\(broken.failure ?? "")")
    }

    @Test func theSkippedAzureCategoryIsNoMatchWithANote() throws {
        let c = try pantherCase("Kubernetes.API.IOC.Activity", "06")
        let result = RuleTestRunner(rules: seedSuite().rules).run(c)
        #expect(result.passed)
        #expect(result.notes.first?.contains("not_kubernetes_category") == true, "\(result.notes)")
    }

    @Test func aMalformedCaseFileListsEveryProblem() {
        let text = """
            {
              "rule_id": 7,
              "expected": "yes",
              "log": []
            }
            """
        guard case .failure(let error) = PantherCaseFile.parse(Array(text.utf8), file: "bad.json") else {
            Issue.record("a malformed case parsed")
            return
        }
        #expect(error.problems.map(\.detail) == [
            "'rule_id' must be a string", "missing 'name'", "'expected' must be true or false",
            "'log' must be a JSON object",
        ])
        #expect(error.problems.first?.line == 2 && error.problems.first?.column == 3)
        #expect(error.problems.first?.message.hasPrefix("bad.json:2:3: 'rule_id' must be a string") == true)
        guard case .failure(let notJSON) = PantherCaseFile.parse(Array("[1]".utf8), file: "x.json") else {
            Issue.record("an array parsed as a case")
            return
        }
        #expect(notJSON.problems.count == 1)
    }

    @Test func aMissingPathIsAProblem() {
        let suite = RuleTestSuite.load(paths: ["/nonexistent/rules"])
        #expect(suite.problems.map(\.detail) == ["no such file or directory"])
    }
}
