import Foundation

/// The rules and test cases found under the paths given to `vigil rules test`,
/// and every problem met loading them.
///
/// A directory contributes its rule files (`*.yaml`, `*.yml`, not recursive,
/// as ``RuleLoader`` reads a rules folder) and every Panther-format case file
/// (`*.json`) below it; a file is a rule file or a case file by its extension.
public struct RuleTestSuite: Sendable {
    /// The rules that loaded.
    public var rules: [Rule]
    /// Every rule's inline tests, then the case files in path order.
    public var cases: [RuleTestCase]
    /// Rule files and case files that did not load, each problem with file:line:column.
    public var problems: [RuleProblem]

    /// Loads `paths`; when they hold no rule file, the rules of `defaultRules`
    /// (if given) are loaded so that case files alone can be run against them.
    public static func load(paths: [String], defaultRules: String? = nil) -> RuleTestSuite {
        var (ruleFiles, caseFiles, problems) = classify(paths)
        if ruleFiles.isEmpty, let defaultRules {
            ruleFiles = files(under: defaultRules).rules
        }
        let loaded = RuleLoader.check(files: ruleFiles)
        var suite = RuleTestSuite(rules: loaded.rules, cases: loaded.rules.flatMap(RuleTestCase.inline),
                                  problems: problems + loaded.problems)
        for file in caseFiles {
            guard let data = FileManager.default.contents(atPath: file) else {
                suite.problems.append(RuleProblem(file: file, line: 1, column: 1, detail: "cannot read file",
                                                  sourceLine: ""))
                continue
            }
            switch PantherCaseFile.parse(Array(data), file: file) {
            case .success(let testCase): suite.cases.append(testCase)
            case .failure(let error): suite.problems += error.problems
            }
        }
        return suite
    }

    /// The rules of `paths` (rule folders, not recursive, and rule files; case
    /// files are ignored), checked together so a duplicate id across them is a problem too.
    public static func loadRules(paths: [String]) -> RuleLoader.Outcome {
        let (ruleFiles, _, problems) = classify(paths)
        var outcome = RuleLoader.check(files: ruleFiles)
        outcome.problems = problems + outcome.problems
        return outcome
    }

    /// Rule files and case files named by `paths`, and the paths that are neither.
    private static func classify(_ paths: [String]) -> (rules: [String], cases: [String], problems: [RuleProblem]) {
        var ruleFiles: [String] = []
        var caseFiles: [String] = []
        var problems: [RuleProblem] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                problems.append(RuleProblem(file: path, line: 1, column: 1, detail: "no such file or directory",
                                            sourceLine: ""))
                continue
            }
            if isDirectory.boolValue {
                let (rules, cases) = files(under: path)
                ruleFiles += rules
                caseFiles += cases
            } else if RuleLoader.isRuleFile(path) {
                ruleFiles.append(path)
            } else if path.hasSuffix(".json") {
                caseFiles.append(path)
            } else {
                problems.append(RuleProblem(file: path, line: 1, column: 1,
                    detail: "neither a rule file (.yaml, .yml) nor a case file (.json)", sourceLine: ""))
            }
        }
        return (ruleFiles, caseFiles, problems)
    }

    /// A directory's rule files (top level) and case files (recursive), each sorted.
    private static func files(under directory: String) -> (rules: [String], cases: [String]) {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let top = (try? RuleLoader.ruleFiles(in: directory)) ?? []
        var cases: [String] = []
        if let walk = FileManager.default.enumerator(atPath: directory) {
            while let relative = walk.nextObject() as? String {
                if relative.hasSuffix(".json") { cases.append(base + relative) }
            }
        }
        return (top, cases.sorted())
    }
}
