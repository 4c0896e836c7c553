import Foundation
import Yams

/// Loads rule files (`*.yaml` / `*.yml`, one rule per file) and reports every
/// problem across all of them at once, each with file:line:column and a caret.
public enum RuleLoader {
    /// What a load found: the rules that are sound, and every problem.
    public struct Outcome: Sendable {
        public var rules: [Rule]
        public var problems: [RuleProblem]
    }

    /// All rules in `directory` (not recursive), sorted by file name; throws
    /// ``RuleLoadError`` listing every problem if there is any.
    public static func load(directory: String) throws(RuleLoadError) -> [Rule] {
        try require(check(directory: directory))
    }

    /// The rule in one file; throws ``RuleLoadError`` listing every problem.
    public static func load(file: String) throws(RuleLoadError) -> Rule {
        let outcome = check(files: [file])
        let rules = try require(outcome)
        guard let rule = rules.first else {
            throw RuleLoadError(problems: [RuleProblem(file: file, line: 1, column: 1,
                                                       detail: "no rule in file", sourceLine: "")])
        }
        return rule
    }

    /// Checks every rule file in `directory` without throwing.
    public static func check(directory: String) -> Outcome {
        let files: [String]
        do {
            files = try ruleFiles(in: directory)
        } catch {
            return Outcome(rules: [], problems: [RuleProblem(file: directory, line: 1, column: 1,
                detail: "cannot list rule directory: \(error.localizedDescription)", sourceLine: "")])
        }
        return check(files: files)
    }

    /// The rule files of a rules folder: its `*.yaml` / `*.yml` files (not recursive), sorted.
    public static func ruleFiles(in directory: String) throws -> [String] {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        return try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter(isRuleFile).sorted().map { base + $0 }
    }

    /// Whether a path names a rule file (by its extension).
    public static func isRuleFile(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    /// Checks the given files; duplicate ids across them are problems too.
    public static func check(files: [String]) -> Outcome {
        var outcome = Outcome(rules: [], problems: [])
        var seen: [String: RuleProblem] = [:]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file),
                  let text = String(data: data, encoding: .utf8) else {
                outcome.problems.append(RuleProblem(file: file, line: 1, column: 1,
                                                    detail: "cannot read file as UTF-8 text", sourceLine: ""))
                continue
            }
            var reader = RuleFileReader(file: file, text: text)
            // Composed once: the rule and the id for duplicate reports come from the same root.
            let root = reader.compose(ifEmpty: "empty rule file")
            let rule = root.flatMap { reader.rule($0) }
            if let (id, line, column) = root.flatMap(topLevelID) {
                if let first = seen[id] {
                    reader.problem(at: line, column, length: id.count,
                                   "duplicate rule id '\(id)' (first in \(first.file):\(first.line))")
                } else {
                    seen[id] = RuleProblem(file: file, line: line, column: column, detail: "", sourceLine: "")
                    if let rule { outcome.rules.append(rule) }
                }
            }
            outcome.problems += reader.problemsInFileOrder
        }
        return outcome
    }

    /// The top-level `id:` value and its position, for duplicate-id reports.
    private static func topLevelID(_ root: Node) -> (String, Int, Int)? {
        guard case .mapping(let m) = root else { return nil }
        for (key, value) in m where key.string == "id" {
            guard case .scalar(let s) = value else { return nil }
            return (s.string, value.mark?.line ?? 1, value.mark?.column ?? 1)
        }
        return nil
    }

    private static func require(_ outcome: Outcome) throws(RuleLoadError) -> [Rule] {
        guard outcome.problems.isEmpty else { throw RuleLoadError(problems: outcome.problems) }
        return outcome.rules
    }
}
