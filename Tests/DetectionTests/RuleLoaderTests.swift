import Foundation
import Testing
@testable import Detection

@Suite struct RuleLoaderTests {
    @Test func theFiveSeedRulesLoadWithoutProblems() throws {
        let outcome = RuleLoader.check(directory: RuleFixtures.seedRules)
        #expect(outcome.problems.isEmpty, "\(outcome.problems.map(\.message).joined(separator: "\n"))")
        let ids = outcome.rules.map(\.id).sorted()
        #expect(ids == [
            "Amazon.EKS.Audit.Multiple403", "Kubernetes.API.IOC.Activity", "Kubernetes.API.Multiple403.PublicIP",
            "Kubernetes.Access.Scanning", "Kubernetes.Direct.Interactive.API.Request",
        ])
    }

    @Test func seedRulesCarryTheirStatefulSemantics() throws {
        let rules = try RuleLoader.load(directory: RuleFixtures.seedRules)
        let byID = Dictionary(uniqueKeysWithValues: rules.map { ($0.id, $0) })
        let tor = try #require(byID["Kubernetes.API.IOC.Activity"])
        #expect(tor.severity == .medium)
        #expect(tor.dedup?.period == RuleDuration(seconds: 3600))
        #expect(tor.threshold == nil)
        for id in ["Amazon.EKS.Audit.Multiple403", "Kubernetes.API.Multiple403.PublicIP"] {
            let rule = try #require(byID[id])
            #expect(rule.severity == .info)
            #expect(rule.threshold?.count == 10)
            #expect(rule.dedup?.period == RuleDuration(seconds: 1800))
        }
        let scan = try #require(byID["Kubernetes.Access.Scanning"])
        let aggregate = try #require(scan.aggregate)
        #expect(aggregate.window == RuleDuration(seconds: 3600))
        #expect(aggregate.groupBy.map(\.name) == ["source.ip", "Country", "City"])
        #expect(aggregate.stats.first?.function == .count)
        #expect(aggregate.stats.contains { $0.function == .values(FieldReference("user_agent")!) })
        #expect(aggregate.having?.evaluate(DictionaryContext(["count": 6])) == true)
        #expect(aggregate.having?.evaluate(DictionaryContext(["count": 5])) == false)
        let elastic = try #require(byID["Kubernetes.Direct.Interactive.API.Request"])
        #expect(elastic.logTypes == [.ecsProcess])
        #expect(tor.tests.count >= 2)
        #expect(tor.tests[0].torExitNodes == ["1.2.3.4"])
        #expect(tor.tests[0].events.first?.json.contains(#""sourceIPs":["1.2.3.4"]"#) == true)
    }

    @Test func loadingASeedFileByPathReturnsItsRule() throws {
        let rule = try RuleLoader.load(file: RuleFixtures.seedRules + "/Kubernetes.API.IOC.Activity.yaml")
        #expect(rule.id == "Kubernetes.API.IOC.Activity")
        #expect(rule.condition.evaluate(DictionaryContext(["kubernetes": true, "source.ip": "1.2.3.4"],
                                                          torExitNodes: ["1.2.3.4"])))
    }

    /// Every problem of the broken directory, as `file:line:column: detail`
    /// heads (file name only) with the caret line.
    private func problems() -> [(head: String, caret: String, problem: RuleProblem)] {
        RuleLoader.check(directory: RuleFixtures.brokenRules).problems.map { p in
            let name = p.file.split(separator: "/").last.map(String.init) ?? p.file
            let caret = p.message.split(separator: "\n", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            return ("\(name):\(p.line):\(p.column)", caret, p)
        }
    }

    /// A rule file nested past the limit is a problem where it goes too deep, not a stack
    /// overflow in the YAML composer, and one whose aliases expand past the node limit is a
    /// problem too, not a walk over a billion nodes; one just within loads on a worker
    /// thread; brackets in quoted scalars, comments and plain text do not count.
    @Test func nestingOrAliasesPastTheLimitsAreProblemsNotACrash() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-nesting-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ text: String) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let head = "id: Test.Deep\ntitle: deep\nseverity: low\nlog_types: [Amazon.EKS.Audit]\nwhere: verb == \"get\"\nreferences: "
        let deep = [try write("flow.yaml", head + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)),
                    try write("block.yaml", head + "\n" + String(repeating: "- ", count: 100_000) + "x"),
                    try write("hidden.yaml", head + "[\"]]]]\", '}}}}', " + String(repeating: "[", count: 300) + "x"
                          + String(repeating: "]", count: 301)),
                    try write("scalar.yaml", "description: |\n  \"unterminated [[[[\n" + head
                          + String(repeating: "[", count: 300) + "x" + String(repeating: "]", count: 300))]
        // A "billion laughs": nine levels of ten aliases each in a test's log (a5, line 15, passes the limit).
        let laughs = try write("laughs.yaml", head.replacingOccurrences(of: "references: ", with: "tests:\n  - name: t\n    expected: false\n    log:\n")
            + "      a0: &a0 [" + Array(repeating: "lol", count: 10).joined(separator: ",") + "]\n"
            + (1...8).map { i in "      a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ",") + "]\n" }.joined())
        let within = try write("within.yaml", head + String(repeating: "[", count: 200) + String(repeating: "]", count: 200))
        let plain = try write("plain.yaml", """
            id: Test.Plain
            title: plain
            severity: low
            log_types: [Amazon.EKS.Audit]
            where: user.name in ("a]]]]", "b}}}}") and verb == "get"   # ]]]] {{{{ [[[[
            description: don't [[[[ {{{{ it's fine
            """)
        let outcome = await Task.detached { RuleLoader.check(files: deep + [laughs, within, plain]) }.value
        let expanded = outcome.problems.filter { $0.file == laughs }
        #expect(expanded.map(\.detail) == ["more than \(YAMLReader.maxExpandedNodes) nodes with its aliases expanded"]
                && expanded.first?.line == 15, "\(expanded.map(\.message))")
        let nesting = outcome.problems.filter { $0.detail == "collections nested deeper than \(YAMLReader.maxNesting) levels" }
        #expect(nesting.map(\.file).sorted() == deep.sorted(), "\(outcome.problems.map { $0.message.prefix(160) })")
        #expect(nesting.allSatisfy { (6...9).contains($0.line) && $0.column < 1000 }, "\(nesting.map { ($0.line, $0.column) })")
        // Within the limit the file is composed and read: its problem is the value's type.
        #expect(outcome.problems.contains { $0.file == within && $0.detail.contains("references") })
        #expect(outcome.rules.map(\.id) == ["Test.Plain"], "\(outcome.problems.map { $0.message.prefix(160) })")
    }

    @Test func aBrokenDirectoryReportsEveryProblemAtOnce() {
        let found = problems()
        let heads = found.map(\.head)
        #expect(heads == [
            "1-bad.yaml:2:13", "1-bad.yaml:3:11", "1-bad.yaml:5:1", "1-bad.yaml:6:33", "1-bad.yaml:8:11",
            "2-block.yaml:7:17",
            "3-missing.yaml:1:1", "3-missing.yaml:1:1",
            "5-dup-b.yaml:1:5",
            "6-syntax.yaml:3:1",
            "7-aggregate.yaml:10:8", "7-aggregate.yaml:11:11",
        ], "\(found.map(\.problem.message).joined(separator: "\n"))")
    }

    @Test func problemsCarryDetailsAndCaretsUnderTheOffendingText() throws {
        let found = problems()
        func problem(_ head: String, _ index: Int = 0) throws -> (head: String, caret: String, problem: RuleProblem) {
            try #require(found.filter { $0.head == head }.dropFirst(index).first, "no problem at \(head)")
        }
        let title = try problem("1-bad.yaml:2:13")
        #expect(title.problem.detail.contains("unterminated '{'"))
        #expect(title.problem.sourceLine == "title: Bad [{source.ip] title")
        #expect(title.caret == "            ^" + String(repeating: "~", count: 16))
        let severity = try problem("1-bad.yaml:3:11")
        #expect(severity.problem.detail.contains("unknown severity 'urgent'"))
        #expect(severity.caret == "          ^~~~~~")
        let unknown = try problem("1-bad.yaml:5:1")
        #expect(unknown.problem.detail.hasPrefix("unknown key 'colour'"))
        #expect(unknown.caret == "^~~~~~")
        let condition = try problem("1-bad.yaml:6:33")
        #expect(condition.problem.detail.hasPrefix("where: "))
        #expect(condition.caret == String(repeating: " ", count: 32) + "^~~")
        let duration = try problem("1-bad.yaml:8:11")
        #expect(duration.problem.detail.contains("duration"))
        #expect(duration.caret == "          ^~~")
        let block = try problem("2-block.yaml:7:17")
        #expect(block.problem.sourceLine == "    and verb == 'get'")
        #expect(block.caret == String(repeating: " ", count: 16) + "^")
        let missing = found.filter { $0.head == "3-missing.yaml:1:1" }.map(\.problem.detail)
        #expect(missing.contains { $0.contains("'severity'") })
        #expect(missing.contains { $0.contains("'where'") })
        let duplicate = try problem("5-dup-b.yaml:1:5")
        #expect(duplicate.problem.detail.contains("duplicate rule id 'Dup.Rule'"))
        #expect(duplicate.problem.detail.contains("4-dup-a.yaml:1"))
        #expect(duplicate.caret == "    ^~~~~~~"+"~")
        #expect(try problem("6-syntax.yaml:3:1").problem.detail.hasPrefix("invalid YAML"))
        #expect(try problem("7-aggregate.yaml:10:8").problem.detail.contains("unknown statistic 'median'"))
        #expect(try problem("7-aggregate.yaml:11:11").problem.detail.contains("'total'"))
    }

    @Test func loadThrowsWithEveryProblem() {
        #expect(throws: RuleLoadError.self) { try RuleLoader.load(directory: RuleFixtures.brokenRules) }
        do {
            _ = try RuleLoader.load(directory: RuleFixtures.brokenRules)
        } catch {
            #expect(error.problems.count == 12)
            #expect(error.description.contains("1-bad.yaml:3:11: unknown severity 'urgent'"))
        }
    }
}
