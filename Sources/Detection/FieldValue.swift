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
        case .number(let n):
            if n.rounded() == n, abs(n) < 9.0e15 { return String(Int64(n)) }
            return String(n)
        }
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
