import Yams

/// Typed reads over one composed YAML document that collect every problem with
/// its position (file:line:column, the line, a caret) instead of stopping at the
/// first. Rule files are read through it here (internal extensions add rules'
/// own types: durations, fields, conditions, templates) and topology files in
/// the Runtime module (its extensions add Kafka durations and ranges).
public struct YAMLReader {
    public let file: String
    public let text: String
    public let lines: [Substring]
    public private(set) var problems: [RuleProblem] = []

    public init(file: String, text: String) {
        self.file = file
        self.text = text
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// How deep a document may nest, by ``nestingBound(_:)``. Yams composes a document by
    /// recursion, once a level, and so do the readers over it: a rule file of 5,000 nested
    /// `[` overflowed the stack of whatever loaded it (`vigil run`'s rule reload too).
    public static let maxNesting = 256

    /// Where a document could first nest deeper than ``maxNesting`` (1-based line and
    /// column), by a scan that needs no parse and never counts short of the real depth: the
    /// flow collections open (`[` and `{` outside quoted scalars and comments, less their
    /// closers, never below zero), plus twice the line's indentation (a block collection is
    /// indented past its parent, but for a sequence under a mapping key) and the `- ` and `? `
    /// indicators that open it. Brackets in block scalars and plain text count too, so a text
    /// can only come out deeper than it is. Nil when the document stays within.
    static func nestingBound(_ text: String) -> (line: Int, column: Int)? {
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        var flow = 0, line = 1
        var quote: UInt8?  // the quote of a quoted scalar open across lines
        for bytes in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let b = Array(bytes)
            var i = 0
            while i < b.count, b[i] == space || b[i] == tab { i += 1 }
            let indentation = i
            if quote == nil, i == b.count || b[i] == UInt8(ascii: "#") {  // blank or a comment: no nesting
                line += 1
                continue
            }
            var block = 2 * indentation + 2
            if quote == nil {
                // Compact block indicators: `- - x`, `? - x`.
                while i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "?"),
                      i + 1 == b.count || b[i + 1] == space || b[i + 1] == tab {
                    block += 1
                    if flow + block > maxNesting { return (line, i + 1) }
                    i += 1
                    while i < b.count, b[i] == space || b[i] == tab { i += 1 }
                }
            }
            if flow + block > maxNesting { return (line, indentation + 1) }
            var previous: UInt8 = i > 0 ? b[i - 1] : space
            while i < b.count {
                let c = b[i]
                if let q = quote {
                    if q == UInt8(ascii: "\"") && c == UInt8(ascii: "\\") {
                        i += 2
                        continue
                    }
                    if c == q {
                        if q == UInt8(ascii: "'"), i + 1 < b.count, b[i + 1] == q { i += 2; continue }
                        quote = nil
                    }
                } else {
                    let tokenStart = previous == space || previous == tab || previous == UInt8(ascii: "[")
                        || previous == UInt8(ascii: "{") || previous == UInt8(ascii: ",") || previous == UInt8(ascii: ":")
                    switch c {
                    case UInt8(ascii: "#") where previous == space || previous == tab:
                        i = b.count
                        continue
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        if tokenStart { quote = c }
                    case UInt8(ascii: "["), UInt8(ascii: "{"):
                        flow += 1
                        if flow + block > maxNesting { return (line, i + 1) }
                    case UInt8(ascii: "]"), UInt8(ascii: "}"):
                        flow = max(0, flow - 1)
                    default:
                        break
                    }
                }
                previous = c
                i += 1
            }
            line += 1
        }
        return nil
    }

    /// The document's root node. Invalid YAML is a problem at the parser's
    /// position; an empty document is the problem `ifEmpty` at 1:1; a document that
    /// could nest deeper than ``maxNesting`` is not composed (a problem where it would).
    public mutating func compose(ifEmpty detail: String) -> Node? {
        if let (line, column) = Self.nestingBound(text) {
            problem(at: line, column, "nested deeper than \(Self.maxNesting) levels (flow collections open here, "
                    + "and twice this line's indentation)")
            return nil
        }
        do {
            if let root = try Yams.compose(yaml: text) { return root }
            problem(at: 1, 1, detail)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let what, let mark, _), .parser(_, let what, let mark, _),
                 .composer(_, let what, let mark, _):
                problem(at: mark.line, mark.column, "invalid YAML: \(what)")
            default:
                problem(at: 1, 1, "invalid YAML: \(error)")
            }
        } catch {
            problem(at: 1, 1, "invalid YAML: \(error)")
        }
        return nil
    }

    /// The problems in file order (stable for problems at one position).
    public var problemsInFileOrder: [RuleProblem] {
        problems.enumerated()
            .sorted { ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset) }
            .map(\.element)
    }

    // MARK: Problems

    /// The file's line `line` (1-based), without its line ending; empty when out of range.
    public func sourceLine(_ line: Int) -> String {
        guard line >= 1, line <= lines.count else { return "" }
        let l = lines[line - 1]
        return String(l.hasSuffix("\r") ? l.dropLast() : l)
    }

    public mutating func problem(at line: Int, _ column: Int, length: Int = 1, _ detail: String) {
        problems.append(RuleProblem(file: file, line: line, column: column, detail: detail,
                                    sourceLine: sourceLine(line), length: length))
    }

    /// A problem at a node; the caret spans a plain scalar's text.
    public mutating func problem(at node: Node, _ detail: String) {
        let line = node.mark?.line ?? 1, column = node.mark?.column ?? 1
        var length = 1
        if case .scalar(let s) = node, s.style == .plain || s.style == .any {
            length = s.string.split(separator: "\n").first.map(\.count) ?? 1
        }
        problem(at: line, column, length: length, detail)
    }

    // MARK: Typed reads

    /// A mapping's entries by key; unknown (listed against `allowed`, in its order),
    /// duplicate and missing required keys are problems.
    public mutating func mapping(_ node: Node, _ what: String, allowed: [String],
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

    /// A scalar's text; with `allowEmpty: false` an empty one is a problem.
    public mutating func string(_ node: Node, _ what: String, allowEmpty: Bool = true) -> String? {
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
    public mutating func strings(_ node: Node, _ what: String, allowEmpty: Bool = true) -> [String] {
        switch node {
        case .scalar: return string(node, what, allowEmpty: allowEmpty).map { [$0] } ?? []
        case .sequence(let seq): return seq.compactMap { string($0, "each of \(what)", allowEmpty: allowEmpty) }
        case .mapping: problem(at: node, "\(what) must be a list"); return []
        }
    }

    public mutating func bool(_ node: Node, _ what: String) -> Bool? {
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
}
