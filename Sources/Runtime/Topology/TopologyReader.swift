import Yams

/// Typed reads over a composed YAML document that collect every problem with its
/// position instead of stopping at the first.
struct TopologyReader {
    let file: String
    let lines: [Substring]
    var problems: [TopologyProblem] = []

    init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    func sourceLine(_ line: Int) -> String {
        guard line >= 1, line <= lines.count else { return "" }
        let l = lines[line - 1]
        return String(l.hasSuffix("\r") ? l.dropLast() : l)
    }

    mutating func problem(at line: Int, _ column: Int, length: Int = 1, _ detail: String) {
        problems.append(TopologyProblem(file: file, line: line, column: column, detail: detail,
                                        sourceLine: sourceLine(line), length: length))
    }

    mutating func problem(at node: Node, _ detail: String) {
        let (line, column, length) = Self.position(of: node)
        problem(at: line, column, length: length, detail)
    }

    /// Line, column and caret length of a node (plain scalars span their text).
    static func position(of node: Node) -> (Int, Int, Int) {
        var length = 1
        if case .scalar(let s) = node, s.style == .plain || s.style == .any {
            length = s.string.split(separator: "\n").first.map(\.count) ?? 1
        }
        return (node.mark?.line ?? 1, node.mark?.column ?? 1, length)
    }

    // MARK: Typed reads

    /// A mapping's entries by key; unknown, duplicate and missing required keys are problems.
    mutating func mapping(_ node: Node, _ what: String, allowed: [String],
                          required: [String] = []) -> [String: (key: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            problem(at: node, "\(what) must be a mapping")
            return nil
        }
        var out: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let k) = key else { problem(at: key, "keys must be plain text"); continue }
            if !allowed.contains(k.string) {
                problem(at: key, "unknown key '\(k.string)' in \(what) (known: \(allowed.joined(separator: ", ")))")
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

    mutating func string(_ node: Node, _ what: String, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let s) = node else {
            problem(at: node, "\(what) must be text")
            return nil
        }
        if !allowEmpty && s.string.isEmpty {
            problem(at: node, "\(what) must not be empty")
            return nil
        }
        return s.string
    }

    /// A list of text; a single scalar counts as a list of one.
    mutating func strings(_ node: Node, _ what: String) -> [String] {
        switch node {
        case .scalar: return string(node, what).map { [$0] } ?? []
        case .sequence(let seq): return seq.compactMap { string($0, "each of \(what)") }
        default: problem(at: node, "\(what) must be a list"); return []
        }
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

    mutating func int(_ node: Node, _ what: String, in range: ClosedRange<Int>) -> Int? {
        if case .scalar(let s) = node, let n = Int(s.string.replacingOccurrences(of: "_", with: "")) {
            if range.contains(n) { return n }
            problem(at: node, "\(what) must be in \(range.lowerBound)...\(range.upperBound), not \(n)")
            return nil
        }
        problem(at: node, "\(what) must be a whole number")
        return nil
    }

    /// `<digits><unit>` with unit ms, s, m, h or d (`500ms`, `30s`, `5m`, `1h`); zero only when allowed.
    mutating func duration(_ node: Node, _ what: String, allowZero: Bool = false) -> Duration? {
        if case .scalar(let s) = node, let d = Self.parseDuration(s.string) {
            if d > .zero || allowZero { return d }
            problem(at: node, "\(what) must be longer than zero")
            return nil
        }
        problem(at: node, "\(what) must be a duration like 500ms, 30s, 5m, 1h or 1d")
        return nil
    }

    static func parseDuration(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int64(digits), value < 1 << 40 else { return nil }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m": return .seconds(value * 60)
        case "h": return .seconds(value * 3600)
        case "d": return .seconds(value * 86400)
        default: return nil
        }
    }
}
