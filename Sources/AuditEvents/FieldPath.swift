/// A dotted path to a raw field, as rules write it.
///
/// Segments are separated by dots; a segment in double quotes may contain dots
/// and slashes (`annotations."authorization.k8s.io/decision"`), and `[N]`
/// selects an array element (`sourceIPs[0]`). Resolution follows EQL: a key
/// applied to an array applies to each element, and a missing key is also
/// tried with the following segments joined by dots, so the nested and dotted
/// ECS forms (`container.image.name` vs `container: {"image.name": ...}`) both
/// resolve.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public let segments: [Segment]

    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// Parses path text; throws ``AuditEventsError`` with code `.invalidFieldPath`.
    public init(_ text: String) throws(AuditEventsError) {
        var segments: [Segment] = []
        var chars = Array(text.unicodeScalars)[...]
        func fail(_ why: String) -> AuditEventsError {
            AuditEventsError(code: .invalidFieldPath, detail: "\(why) in field path '\(text)'")
        }
        var expectSegment = true
        while let c = chars.first {
            if c == "." {
                if expectSegment { throw fail("empty segment") }
                chars.removeFirst()
                expectSegment = true
            } else if c == "[" {
                chars.removeFirst()
                var digits = ""
                while let d = chars.first, d != "]" {
                    digits.unicodeScalars.append(d)
                    chars.removeFirst()
                }
                guard chars.first == "]", let n = Int(digits), n >= 0 else { throw fail("bad index") }
                chars.removeFirst()
                segments.append(.index(n))
                expectSegment = false
            } else if c == "\"" {
                guard expectSegment else { throw fail("quote inside a segment") }
                chars.removeFirst()
                var key = ""
                var closed = false
                while let d = chars.first {
                    chars.removeFirst()
                    if d == "\\", let e = chars.first {
                        key.unicodeScalars.append(e)
                        chars.removeFirst()
                    } else if d == "\"" {
                        closed = true
                        break
                    } else {
                        key.unicodeScalars.append(d)
                    }
                }
                guard closed else { throw fail("unterminated quote") }
                segments.append(.key(key))
                expectSegment = false
            } else {
                guard expectSegment else { throw fail("unexpected '\(c)'") }
                var key = ""
                while let d = chars.first, d != ".", d != "[", d != "\"" {
                    key.unicodeScalars.append(d)
                    chars.removeFirst()
                }
                segments.append(.key(key))
                expectSegment = false
            }
        }
        if expectSegment && !segments.isEmpty { throw fail("trailing dot") }
        if segments.isEmpty { throw fail("empty path") }
        self.segments = segments
    }

    public var description: String {
        var out = ""
        for segment in segments {
            switch segment {
            case .index(let n): out += "[\(n)]"
            case .key(let k):
                if !out.isEmpty { out += "." }
                let plain = !k.isEmpty && !k.unicodeScalars.contains { "./\"[]\\ ".unicodeScalars.contains($0) }
                if plain {
                    out += k
                } else {
                    out += "\"" + k.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
                }
            }
        }
        return out
    }

    /// Resolves this path in a parsed document.
    func resolve(in node: JSONNode) -> JSONValue? {
        resolve(node, from: segments.startIndex)
    }

    private func resolve(_ node: JSONNode, from i: Int) -> JSONValue? {
        if i == segments.endIndex { return JSONValue(node) }
        switch segments[i] {
        case .index(let n):
            guard node.kind == .array else { return nil }
            var k = 0
            var found: JSONNode?
            node.forEachElement { element in
                if k == n { found = element }
                k += 1
            }
            return found.flatMap { resolve($0, from: i + 1) }
        case .key(let key):
            switch node.kind {
            case .object:
                if let child = node.field(named: key), let r = resolve(child, from: i + 1) { return r }
                var joined = key
                var j = i + 1
                while j < segments.endIndex, case .key(let next) = segments[j] {
                    joined += "." + next
                    j += 1
                    if let child = node.field(named: joined), let r = resolve(child, from: j) { return r }
                }
                return nil
            case .array:
                var results: [JSONValue] = []
                node.forEachElement { element in
                    guard let r = resolve(element, from: i) else { return }
                    if case .array(let inner) = r { results.append(contentsOf: inner) } else { results.append(r) }
                }
                return results.isEmpty ? nil : .array(results)
            default:
                return nil
            }
        }
    }
}

extension String {
    /// Foundation-free replace-all, for path printing.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self {
            if c == target { out += replacement } else { out.append(c) }
        }
        return out
    }
}
