import AuditEvents

/// Reads Panther-format rule test cases: one JSON object per file with
/// `rule_id`, `name`, `expected` and `log`, and optionally `observed_title` /
/// `observed_dedup` (what the original rule returned, for a cross-check).
///
/// The log's `p_log_type` chooses its decoder and `p_enrichment.tor_exit_nodes`
/// is the Tor exit set for the case, as in Panther.
public enum PantherCaseFile {
    /// The case in `bytes` (the text of `file`), or every problem with it.
    public static func parse(_ bytes: [UInt8], file: String) -> Result<RuleTestCase, RuleLoadError> {
        let text = String(decoding: bytes, as: UTF8.self)
        var problems: [RuleProblem] = []
        func problem(_ detail: String, key: String? = nil) {
            let (line, column, source) = position(of: key, in: text)
            problems.append(RuleProblem(file: file, line: line, column: column, detail: detail,
                                        sourceLine: source, length: key.map { $0.count + 2 } ?? 1))
        }
        guard let document = RawJSON(bytes).document, case .object = document else {
            problem("not a JSON object (a Panther case has rule_id, name, expected and log)")
            return .failure(RuleLoadError(problems: problems))
        }
        func string(_ key: String, required: Bool) -> String? {
            guard let value = document[key] else {
                if required { problem("missing '\(key)'") }
                return nil
            }
            guard let s = value.stringValue else {
                problem("'\(key)' must be a string", key: key)
                return nil
            }
            return s
        }
        let ruleID = string("rule_id", required: true)
        let name = string("name", required: true)
        let title = string("observed_title", required: false)
        let dedup = string("observed_dedup", required: false)
        var expected: Bool?
        if let value = document["expected"] {
            expected = value.boolValue
            if expected == nil { problem("'expected' must be true or false", key: "expected") }
        } else {
            problem("missing 'expected'")
        }
        var record: [UInt8]?
        if let log = document["log"] {
            if case .object = log { record = Array(log.jsonText.utf8) } else {
                problem("'log' must be a JSON object", key: "log")
            }
        } else {
            problem("missing 'log'")
        }
        var logType: LogType?
        if let declared = document["log"]?["p_log_type"]?.stringValue {
            logType = LogType(rawValue: declared)
            if logType == nil { problem("unknown p_log_type '\(declared)'", key: "p_log_type") }
        }
        guard problems.isEmpty, let ruleID, let name, let expected, let record else {
            return .failure(RuleLoadError(problems: problems))
        }
        return .success(RuleTestCase(ruleID: ruleID, name: name, origin: .caseFile(file), records: [record],
                                     logType: logType, torExitNodes: RuleTestCase.pantherTorExits(record),
                                     expectation: .match(expected), observedTitle: title, observedDedup: dedup))
    }

    /// Line, column and text of the first `"key"` in the file (1:1 when not found).
    private static func position(of key: String?, in text: String) -> (Int, Int, String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let key else { return (1, 1, lines.first.map(String.init) ?? "") }
        let quoted = "\"" + key + "\""
        for (index, line) in lines.enumerated() {
            if let range = line.range(of: quoted) {
                return (index + 1, line.distance(from: line.startIndex, to: range.lowerBound) + 1, String(line))
            }
        }
        return (1, 1, lines.first.map(String.init) ?? "")
    }
}
