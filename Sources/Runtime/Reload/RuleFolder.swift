import Detection
import Enrichment

/// The rules folder as the detect stage watches it: the identity (inode, size, mtime) of
/// each rule file, to tell a change, and a full check of the folder by the same
/// ``RuleLoader`` checks `vigil rules validate` runs.
struct RuleFolder: Sendable {
    /// Rule file → its signature (nil: listed but gone or not readable).
    typealias Signature = [String: FileSignature?]

    let directory: String

    /// The rule files (`*.yaml` / `*.yml`) now; nil when the folder cannot be listed.
    func signature() -> Signature? {
        guard let files = try? RuleLoader.ruleFiles(in: directory) else { return nil }
        var out: Signature = [:]
        for file in files { out[file] = FileSignature(path: file) }
        return out
    }

    /// The folder checked again (``load()``) when a rule file changed since `last` was taken, or
    /// when `force`d (SIGHUP), with the signature to remember; nil when nothing changed. The
    /// detect stage's rule reload and ingest's ``DocumentPolicy`` both follow the folder this way.
    func reload(since last: Signature?, force: Bool) -> (signature: Signature?, outcome: RuleLoader.Outcome)? {
        let now = signature()
        if !force && now == last { return nil }
        return (now, load())
    }

    /// Every rule in the folder and every problem found (file:line:column); an empty folder
    /// is a problem too. A set with any problem is not used.
    func load() -> RuleLoader.Outcome {
        var outcome = RuleLoader.check(directory: directory)
        if outcome.rules.isEmpty && outcome.problems.isEmpty {
            outcome.problems.append(RuleProblem(file: directory, line: 1, column: 1,
                                                detail: "no rule files (*.yaml) in the rules folder", sourceLine: ""))
        }
        return outcome
    }
}
