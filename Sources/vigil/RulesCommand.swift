import ArgumentParser
import Detection
import Enrichment
import Foundation

/// `vigil rules`: check rule files and run their tests.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check detection rules and run their tests.",
        subcommands: [Test.self, Validate.self])

    static let defaultPath = "topology/rules"

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every rule's inline tests and the Panther-format case files.",
            discussion: """
                PATHs are rule folders (their *.yaml rules and every *.json case file below them), \
                rule files or case files; without a rule file among them the rules of topology/rules \
                are used. Prints each failing case with why and ends with "N passed, N failed" \
                (a rule-file problem counts as a failure). Exit status 1 on any failure.
                """)

        @Option(help: "GeoIP database for the cases (default: geo/GeoLite2-City.mmdb when present).")
        var geoip: String?

        @Flag(help: "Fail a case whose rendered title or dedup key differs from the original's observed one.")
        var strict = false

        @Flag(name: .shortAndLong, help: "Also list the cases that pass.")
        var verbose = false

        @Argument(help: "Rule folders, rule files or case files (default: topology/rules).")
        var paths: [String] = []

        func run() throws {
            let suite = RuleTestSuite.load(paths: paths.isEmpty ? [RulesCommand.defaultPath] : paths,
                                           defaultRules: RulesCommand.defaultPath)
            let runner = RuleTestRunner(rules: suite.rules, geo: try openGeo(geoip), strictCrossCheck: strict)
            for problem in suite.problems { print("FAIL " + problem.message) }
            var passed = 0
            var failed = suite.problems.count
            for result in runner.run(suite.cases) {
                let label = "\(result.testCase.ruleID) \"\(result.testCase.name)\" (\(result.testCase.origin))"
                if let failure = result.failure {
                    failed += 1
                    print("FAIL \(label)\n     \(failure)")
                } else {
                    passed += 1
                    if verbose { print("ok   \(label)") }
                }
                for note in result.notes { print("note \(label)\n     \(note)") }
            }
            print("\(passed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check rule files (and case files) and list every problem with file:line:column.",
            discussion: "Exit status 1 when there is any problem.")

        @Argument(help: "Rule folders, rule files or case files (default: topology/rules).")
        var paths: [String] = []

        func run() throws {
            let suite = RuleTestSuite.load(paths: paths.isEmpty ? [RulesCommand.defaultPath] : paths,
                                           defaultRules: RulesCommand.defaultPath)
            let known = Set(suite.rules.map(\.id))
            var problems = suite.problems.map(\.message)
            for testCase in suite.cases where !known.contains(testCase.ruleID) {
                problems.append("\(testCase.origin): no rule with id '\(testCase.ruleID)' was loaded")
            }
            for problem in problems { print(problem) }
            print("\(suite.rules.count) rules, \(suite.cases.count) test cases, \(problems.count) problems")
            if !problems.isEmpty { throw ExitCode(1) }
        }
    }
}

/// The GeoIP database: the one named, else the default one when it exists, else none.
func openGeo(_ path: String?) throws -> GeoLocator? {
    let chosen = path ?? ProcessInfo.processInfo.environment["VIGIL_GEOIP_DB"] ?? "geo/GeoLite2-City.mmdb"
    if path == nil, !FileManager.default.fileExists(atPath: chosen) { return nil }
    do {
        return try GeoLocator(configuration: .init(path: chosen))
    } catch {
        throw ValidationError("--geoip \(chosen): \(error)")
    }
}
