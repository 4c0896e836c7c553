/// A text with event fields in braces, parsed once:
/// `Kubernetes API activity from Tor exit node [{source.ip}] by user [{user.name}]`.
///
/// `{field}` renders the field's values joined by `,` (empty when missing);
/// `{field|text}` renders `text` when the field is missing; `{{` and `}}` are
/// literal braces.
public struct TitleTemplate: Sendable, Hashable, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case field(FieldReference, missing: String)
    }

    /// A template that does not parse: what and where (0-based character offset).
    public struct ParseError: Error, Sendable, Hashable {
        public let detail: String
        public let offset: Int
        public let length: Int
    }

    public let text: String
    public let parts: [Part]

    /// The fields the template reads, in order.
    public var fields: [FieldReference] {
        parts.compactMap { if case .field(let f, _) = $0 { return f } else { return nil } }
    }

    public init(_ text: String) throws(ParseError) {
        self.text = text
        var parts: [Part] = []
        var literal = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "{", i + 1 < chars.count, chars[i + 1] == "{" {
                literal.append("{"); i += 2; continue
            }
            if c == "}" {
                guard i + 1 < chars.count, chars[i + 1] == "}" else {
                    throw ParseError(detail: "unmatched '}' in template (write '}}' for a literal brace)",
                                     offset: i, length: 1)
                }
                literal.append("}"); i += 2; continue
            }
            guard c == "{" else { literal.append(c); i += 1; continue }
            guard let close = chars[(i + 1)...].firstIndex(of: "}") else {
                throw ParseError(detail: "unterminated '{' in template", offset: i, length: chars.count - i)
            }
            let inner = String(chars[(i + 1)..<close])
            let (name, missing) = Self.split(inner)
            let trimmed = name.trimmingSpaces
            guard !trimmed.isEmpty, let field = FieldReference(trimmed) else {
                throw ParseError(detail: "'\(inner)' is not a field name", offset: i, length: close - i + 1)
            }
            if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
            parts.append(.field(field, missing: missing))
            i = close + 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    private static func split(_ inner: String) -> (String, String) {
        guard let bar = inner.firstIndex(of: "|") else { return (inner, "") }
        return (String(inner[..<bar]), String(inner[inner.index(after: bar)...]))
    }

    /// The template with each field replaced by its values in `context`.
    public func render<C: EvaluationContext>(_ context: C) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 64)
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .field(let field, let missing):
                // One value (the common case) appended as it is: no list of texts joined.
                switch context.values(of: field) {
                case .one(let value): out += value.text
                case let values: out += values.isEmpty ? missing : values.all.map(\.text).joined(separator: ",")
                }
            }
        }
        return out
    }

    public var description: String { text }
}

extension String {
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        return String(scalars[first...last])
    }
}
