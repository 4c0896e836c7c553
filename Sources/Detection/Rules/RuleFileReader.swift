import Yams

/// Reads one composed YAML document into a ``Rule``, collecting every problem
/// with its position instead of stopping at the first.
struct RuleFileReader {
    let file: String
    let lines: [Substring]
    var problems: [RuleProblem] = []

    init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    // MARK: Problems

    func sourceLine(_ line: Int) -> String {
        guard line >= 1, line <= lines.count else { return "" }
        let l = lines[line - 1]
        return String(l.hasSuffix("\r") ? l.dropLast() : l)
    }

    mutating func problem(at line: Int, _ column: Int, length: Int = 1, _ detail: String) {
        problems.append(RuleProblem(file: file, line: line, column: column, detail: detail,
                                    sourceLine: sourceLine(line), length: length))
    }

    mutating func problem(at node: Node, _ detail: String) {
        let line = node.mark?.line ?? 1, column = node.mark?.column ?? 1
        var length = 1
        if case .scalar(let s) = node, s.style == .plain || s.style == .any {
            length = s.string.split(separator: "\n").first.map(\.count) ?? 1
        }
        problem(at: line, column, length: length, detail)
    }

    // MARK: Typed reads

    mutating func mapping(_ node: Node, _ what: String, allowed: Set<String>,
                          required: [String] = []) -> [String: (key: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            problem(at: node, "\(what) must be a mapping")
            return nil
        }
        var out: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let k) = key else { problem(at: key, "keys must be plain text"); continue }
            if !allowed.contains(k.string) {
                let known = allowed.sorted().joined(separator: ", ")
                problem(at: key, "unknown key '\(k.string)' in \(what) (known: \(known))")
            } else if out[k.string] != nil {
                problem(at: key, "duplicate key '\(k.string)' in \(what)")
            } else {
                out[k.string] = (key, value)
            }
        }
        for name in required where out[name] == nil {
            problem(at: node, "missing required key '\(name)' in \(what)")
        }
        return out
    }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let s) = node else {
            problem(at: node, "\(what) must be text")
            return nil
        }
        return s.string
    }

    mutating func bool(_ node: Node, _ what: String) -> Bool? {
        if case .scalar(let s) = node {
            switch s.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        problem(at: node, "\(what) must be true or false")
        return nil
    }

    mutating func positiveInt(_ node: Node, _ what: String) -> Int? {
        if case .scalar(let s) = node, let n = Int(s.string), n > 0 { return n }
        problem(at: node, "\(what) must be a positive whole number")
        return nil
    }

    mutating func duration(_ node: Node, _ what: String) -> RuleDuration? {
        if case .scalar(let s) = node, let d = RuleDuration(parsing: s.string) { return d }
        problem(at: node, "\(what) must be a duration like 30s, 30m, 1h or 1d")
        return nil
    }

    /// A list of text; a single scalar counts as a list of one.
    mutating func strings(_ node: Node, _ what: String) -> [String] {
        switch node {
        case .scalar: return string(node, what).map { [$0] } ?? []
        case .sequence(let seq): return seq.compactMap { string($0, "each of \(what)") }
        case .mapping: problem(at: node, "\(what) must be a list"); return []
        }
    }

    mutating func fields(_ node: Node, _ what: String) -> [FieldReference] {
        let items: [Node]
        switch node {
        case .sequence(let seq): items = Array(seq)
        default: items = [node]
        }
        return items.compactMap { item in
            guard let text = string(item, what) else { return nil }
            guard let field = FieldReference(text) else {
                problem(at: item, "'\(text)' is not a field name")
                return nil
            }
            return field
        }
    }

    // MARK: Positions of scalar content

    /// Where the first character of a scalar's content sits in the file, and
    /// how far each later content line is indented (block scalars).
    func contentStart(of node: Node) -> (line: Int, column: Int, blockIndent: Int?) {
        let markLine = node.mark?.line ?? 1, markColumn = node.mark?.column ?? 1
        guard case .scalar(let s) = node else { return (markLine, markColumn, nil) }
        switch s.style {
        case .singleQuoted, .doubleQuoted:
            return (markLine, markColumn + 1, nil)
        case .literal, .folded:
            // The mark is at the `|` / `>` header; content starts on the next line.
            var indent = 0
            var line = markLine + 1
            while line <= lines.count {
                let text = sourceLine(line)
                if !text.allSatisfy({ $0 == " " }) {
                    indent = text.prefix(while: { $0 == " " }).count
                    break
                }
                line += 1
            }
            return (markLine + 1, indent + 1, indent)
        default:
            return (markLine, markColumn, nil)
        }
    }

    /// A condition error placed at its position in the file.
    mutating func problem(_ error: ConditionError, in node: Node, _ what: String) {
        let start = contentStart(of: node)
        if let indent = start.blockIndent {
            problem(at: start.line + error.line - 1, error.column + indent, length: error.length,
                    "\(what): \(error.detail)")
        } else {
            let placed = error.located(atLine: start.line, column: start.column)
            problem(at: placed.line, placed.column, length: placed.length, "\(what): \(error.detail)")
        }
    }

    mutating func condition(_ node: Node, _ what: String) -> Condition? {
        guard let text = string(node, what) else { return nil }
        do {
            return try Condition(text)
        } catch {
            problem(error, in: node, what)
            return nil
        }
    }

    mutating func template(_ node: Node, _ what: String) -> TitleTemplate? {
        guard let text = string(node, what) else { return nil }
        do {
            return try TitleTemplate(text)
        } catch {
            let start = contentStart(of: node)
            problem(at: start.line, start.column + error.offset, length: error.length, "\(what): \(error.detail)")
            return nil
        }
    }

    /// A YAML value as data.
    func value(_ node: Node) -> RuleValue {
        switch node {
        case .scalar(let s):
            if s.style == .plain || s.style == .any {
                switch s.string {
                case "", "~", "null", "Null", "NULL": return .null
                case "true", "True", "TRUE": return .bool(true)
                case "false", "False", "FALSE": return .bool(false)
                default:
                    if let n = Double(s.string), s.string.first != "." { return .number(n) }
                }
            }
            return .string(s.string)
        case .sequence(let seq): return .array(seq.map(value))
        case .mapping(let m):
            return .object(m.compactMap { key, v in
                guard case .scalar(let k) = key else { return nil }
                return (k.string, value(v))
            })
        }
    }
}
