import AuditEvents

/// One scalar value of an event field, as conditions see it.
public enum FieldValue: Sendable, Hashable {
    case string(String)
    case number(Double)
    case bool(Bool)

    /// The value as text: numbers without a fraction print as integers.
    public var text: String {
        switch self {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return Self.integer(n).map { String($0) } ?? String(n)
        }
    }

    /// The value as JSON: numbers without a fraction as integers, as ``text`` prints them.
    var jsonValue: JSONValue {
        switch self {
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .number(let n): return Self.integer(n).map(JSONValue.int) ?? .double(n)
        }
    }

    /// `n` as an integer when it has no fraction (and is within the exact range of a double).
    private static func integer(_ n: Double) -> Int64? {
        n.rounded() == n && abs(n) < 9.0e15 ? Int64(n) : nil
    }

    /// The value as a number: numbers, and strings that read as one.
    var numeric: Double? {
        switch self {
        case .number(let n): return n
        case .string(let s): return Double(s)
        case .bool: return nil
        }
    }
}

extension FieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
                      ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
