import Yams

/// Reads one composed YAML document into a ``Rule``: the shared ``YAMLReader``
/// plus the rules' own types, collecting every problem with its position.
typealias RuleFileReader = YAMLReader

extension YAMLReader {
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

    /// Field names (one, or a list), each checked as a ``FieldReference``.
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
