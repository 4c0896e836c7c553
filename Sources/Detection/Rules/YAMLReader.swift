import CYaml  // libyaml, as Yams bundles it: its event parser, for structureProblem(_:)
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

    /// How deep a document's collections may nest. Yams composes a document by recursion,
    /// once a level, and so do the readers over it: a rule file of 5,000 nested `[`
    /// overflowed the stack of whatever loaded it (`vigil run`'s rule reload too).
    public static let maxNesting = 256
    /// How many nodes a document may hold with its aliases expanded. Yams shares an
    /// anchored node between its aliases, but readers walk the tree: nine levels of ten
    /// aliases each (a "billion laughs" in a rule's test log) took 24 GB and 90 s.
    public static let maxExpandedNodes = 1_000_000

    /// Where the document first goes past ``maxNesting`` or ``maxExpandedNodes``
    /// (1-based line and column, and what), read by libyaml's event parser, which keeps
    /// its own stacks instead of recursing (Yams' C module, the parser Yams composes
    /// from). Nil when the document stays within, or is not YAML: Yams reports that.
    static func structureProblem(_ text: String) -> (line: Int, column: Int, detail: String)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var utf8 = Array(text.utf8)
        return utf8.withUnsafeMutableBufferPointer { buffer -> (line: Int, column: Int, detail: String)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Per open collection: its anchor and the nodes in it so far (itself included).
            var open: [(anchor: String?, nodes: Int)] = []
            var anchored: [String: Int] = [:]  // nodes under each anchor, aliases expanded
            func anchor(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let at = (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1)
                var nodes = 0
                switch event.type {
                case YAML_SEQUENCE_START_EVENT:
                    open.append((anchor(event.data.sequence_start.anchor), 1))
                case YAML_MAPPING_START_EVENT:
                    open.append((anchor(event.data.mapping_start.anchor), 1))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let closed = open.popLast() else { return nil }
                    if let name = closed.anchor { anchored[name] = closed.nodes }
                    nodes = closed.nodes
                case YAML_SCALAR_EVENT:
                    nodes = 1
                    if let name = anchor(event.data.scalar.anchor) { anchored[name] = 1 }
                case YAML_ALIAS_EVENT:
                    nodes = anchor(event.data.alias.anchor).flatMap { anchored[$0] } ?? 1
                case YAML_STREAM_END_EVENT:
                    return nil
                default:
                    continue
                }
                if open.count > maxNesting {
                    return (at.0, at.1, "collections nested deeper than \(maxNesting) levels")
                }
                // A finished node counts in the collection around it (a collection just opened
                // counts itself), checked where it lands; the root's count is its collection's.
                if let last = open.indices.last {
                    open[last].nodes += nodes
                    if open[last].nodes > maxExpandedNodes {
                        return (at.0, at.1, "more than \(maxExpandedNodes) nodes with its aliases expanded")
                    }
                }
            }
        }
    }

    /// The document's root node. Invalid YAML is a problem at the parser's
    /// position; an empty document is the problem `ifEmpty` at 1:1; a document nested
    /// deeper than ``maxNesting`` or larger than ``maxExpandedNodes`` with its aliases
    /// expanded is not composed (a problem where it goes past).
    public mutating func compose(ifEmpty detail: String) -> Node? {
        if let (line, column, detail) = Self.structureProblem(text) {
            problem(at: line, column, detail)
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
