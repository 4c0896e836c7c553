/// Writes compact JSON text (no Foundation): `vigil decode` output and
/// ``JSONValue/jsonText``.
public struct JSONWriter: Sendable {
    public private(set) var text: String = ""
    private var needsComma: [Bool] = [false]

    public init() {}

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { text.append(",") }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func beginObject() {
        separator()
        text.append("{")
        needsComma.append(false)
    }

    public mutating func endObject() {
        text.append("}")
        if needsComma.count > 1 { needsComma.removeLast() }
    }

    public mutating func beginArray() {
        separator()
        text.append("[")
        needsComma.append(false)
    }

    public mutating func endArray() {
        text.append("]")
        if needsComma.count > 1 { needsComma.removeLast() }
    }

    /// Writes `"key":` inside an object; the next value call writes the value.
    public mutating func key(_ key: String) {
        separator()
        Self.appendQuoted(key, to: &text)
        text.append(":")
        needsComma[needsComma.count - 1] = false
    }

    public mutating func string(_ s: String) {
        separator()
        Self.appendQuoted(s, to: &text)
    }

    public mutating func int(_ i: Int64) {
        separator()
        text.append(String(i))
    }

    public mutating func bool(_ b: Bool) {
        separator()
        text.append(b ? "true" : "false")
    }

    public mutating func null() {
        separator()
        text.append("null")
    }

    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d):
            separator()
            text.append(d.isFinite ? "\(d)" : "null")
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for m in members {
                key(m.key)
                value(m.value)
            }
            endObject()
        }
    }

    /// `s` as a JSON string literal, quotes included: the one JSON string escaper.
    public static func quoted(_ s: String) -> String {
        var out = ""
        appendQuoted(s, to: &out)
        return out
    }

    static func appendQuoted(_ s: String, to out: inout String) {
        out.append("\"")
        var plainStart = s.unicodeScalars.startIndex
        var index = plainStart
        let scalars = s.unicodeScalars
        while index < scalars.endIndex {
            let c = scalars[index]
            let escape: String?
            switch c {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escape = nil
                }
            }
            if let escape {
                out.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                out.append(escape)
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        out.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        out.append("\"")
    }
}
