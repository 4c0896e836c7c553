/// What a field lookup answers: no value, one, or several (an array field).
///
/// Kept as an enum so the common single-valued case allocates nothing.
public enum FieldValues: Sendable, Hashable {
    case none
    case one(FieldValue)
    case many([FieldValue])

    public var isEmpty: Bool {
        switch self {
        case .none: return true
        case .one: return false
        case .many(let values): return values.isEmpty
        }
    }

    /// Whether any value satisfies `predicate` (false when there is none).
    @inlinable
    public func contains(where predicate: (FieldValue) throws -> Bool) rethrows -> Bool {
        switch self {
        case .none: return false
        case .one(let v): return try predicate(v)
        case .many(let values): return try values.contains(where: predicate)
        }
    }

    /// Every value, in order.
    public var all: [FieldValue] {
        switch self {
        case .none: return []
        case .one(let v): return [v]
        case .many(let values): return values
        }
    }

    /// Values from a list: none, one or many by count.
    public init(_ values: [FieldValue]) {
        switch values.count {
        case 0: self = .none
        case 1: self = .one(values[0])
        default: self = .many(values)
        }
    }
}

extension FieldValues: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                       ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .one(.string(value)) }
    public init(integerLiteral value: Int) { self = .one(.number(Double(value))) }
    public init(floatLiteral value: Double) { self = .one(.number(value)) }
    public init(booleanLiteral value: Bool) { self = .one(.bool(value)) }
    public init(arrayLiteral elements: FieldValue...) { self.init(elements) }
    public init(nilLiteral: ()) { self = .none }
}
