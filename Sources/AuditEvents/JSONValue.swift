/// An owned JSON value: what raw-field access returns.
///
/// Objects keep their members in document order; lookups take the first
/// member with the key, as the decoders do.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([Member])

    /// One member of an object.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The first member named `key`, when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int64(d)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements when this is an array, else this value alone.
    public var elements: [JSONValue] {
        if case .array(let a) = self { return a }
        return [self]
    }

    /// Compact JSON text for this value.
    public var jsonText: String {
        var writer = JSONWriter()
        writer.value(self)
        return writer.text
    }
}

extension JSONValue {
    /// Copies a node out of a parsed document.
    init(_ node: JSONNode) {
        switch node.kind {
        case .null: self = .null
        case .bool: self = .bool(node.bool ?? false)
        case .int64: self = .int(node.int64 ?? 0)
        case .uint64, .double: self = .double(node.double ?? 0)
        case .string: self = .string(node.string ?? "")
        case .array:
            var items: [JSONValue] = []
            node.forEachElement { items.append(JSONValue($0)) }
            self = .array(items)
        case .object:
            var members: [Member] = []
            node.forEachField { key, value in
                members.append(Member(key: String(decoding: key, as: UTF8.self), value: JSONValue(value)))
            }
            self = .object(members)
        }
    }
}
