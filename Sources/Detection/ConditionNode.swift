import Enrichment

/// A compiled condition: the tree the parser builds, with literals, patterns
/// and networks prepared, evaluated per event without parsing anything.
indirect enum ConditionNode: Sendable, Hashable {
    /// A value-producing operand.
    indirect enum Operand: Sendable, Hashable {
        case field(FieldReference)
        case literal(FieldValue)
        /// `length(x)`: the character count of each string value.
        case length(Operand)
    }

    enum Comparison: String, Sendable, Hashable {
        case equal = "==", notEqual = "!=", less = "<", lessEqual = "<="
        case greater = ">", greaterEqual = ">="
    }

    /// A string predicate over the values of an operand.
    enum StringTest: Sendable, Hashable {
        case like([WildcardPattern])
        case startsWith([String], caseInsensitive: Bool)
        case endsWith([String], caseInsensitive: Bool)
        case contains([String], caseInsensitive: Bool)
    }

    case constant(Bool)
    case and([ConditionNode])
    case or([ConditionNode])
    case not(ConditionNode)
    /// Holds when the operand has a value and `node` does not hold: the EQL
    /// null semantics of `x not in (...)` and `x not like ...`.
    case presentAndNot(Operand, ConditionNode)
    case compare(Operand, Comparison, Operand)
    /// A field compared with a literal (`literalFirst`: the literal is the
    /// left operand): ``compare(_:_:_:)`` without building the literal's
    /// values, made by ``planned()``.
    case fieldCompare(FieldReference, Comparison, FieldValue, literalFirst: Bool)
    /// `x in (...)` / `x in~ (...)` / `x : (...)` without wildcards.
    case member(Operand, Set<FieldValue>, caseInsensitive: Bool)
    case string(Operand, StringTest)
    /// `x == null` (`present == false`) or `x != null` (`present == true`).
    case present(Operand, Bool)
    /// A bare field: holds when any value is boolean true.
    case truthy(Operand)
    case cidrMatch(Operand, [IPNetwork])
    case isPublic(Operand)
    case isTorExit(Operand)

    func evaluate<C: EvaluationContext>(_ context: C) -> Bool {
        switch self {
        case .constant(let b):
            return b
        case .and(let nodes):
            for node in nodes where !node.evaluate(context) { return false }
            return true
        case .or(let nodes):
            for node in nodes where node.evaluate(context) { return true }
            return false
        case .not(let node):
            return !node.evaluate(context)
        case .presentAndNot(let operand, let node):
            return operand.hasValue(context) && !node.evaluate(context)
        case .compare(let lhs, let op, let rhs):
            return Self.compare(lhs.values(context), op, rhs.values(context))
        case .fieldCompare(let field, let op, let literal, let literalFirst):
            if op == .notEqual {
                var any = false
                let equalOne = context.containsValue(of: field) { value in
                    any = true
                    return Self.equal(value, literal)
                }
                return any && !equalOne
            }
            if literalFirst {
                return context.containsValue(of: field) { Self.ordered(literal, op, $0) }
            }
            return context.containsValue(of: field) { Self.ordered($0, op, literal) }
        case .member(let operand, let set, let caseInsensitive):
            return operand.contains(context) { Self.isMember($0, of: set, caseInsensitive: caseInsensitive) }
        case .string(let operand, let test):
            return operand.contains(context) { value in
                guard case .string(let s) = value else { return false }
                return test.holds(for: s)
            }
        case .present(let operand, let wanted):
            return operand.hasValue(context) == wanted
        case .truthy(let operand):
            return operand.contains(context) { $0 == .bool(true) }
        case .cidrMatch(let operand, let networks):
            return operand.contains(context) { value in
                guard case .string(let s) = value, let ip = IPAddress(s) else { return false }
                return networks.contains { $0.contains(ip) }
            }
        case .isPublic(let operand):
            return operand.contains(context) { value in
                guard case .string(let s) = value else { return false }
                return context.isPublic(s)
            }
        case .isTorExit(let operand):
            return operand.contains(context) { value in
                guard case .string(let s) = value else { return false }
                return context.isTorExit(s)
            }
        }
    }

    /// The set key for membership: strings lowercased when case is ignored,
    /// numbers as numbers, numeric strings also as numbers.
    static func key(_ value: FieldValue, caseInsensitive: Bool) -> FieldValue {
        switch value {
        case .string(let s): return .string(caseInsensitive ? s.lowercased() : s)
        default: return value
        }
    }

    /// Set membership with the same coercions as ``equal(_:_:caseInsensitive:)``.
    static func isMember(_ value: FieldValue, of set: Set<FieldValue>, caseInsensitive: Bool) -> Bool {
        if set.contains(key(value, caseInsensitive: caseInsensitive)) { return true }
        switch value {
        case .string(let s):
            if let d = Double(s), set.contains(.number(d)) { return true }
            switch s.lowercased() {
            case "true": return set.contains(.bool(true))
            case "false": return set.contains(.bool(false))
            default: return false
            }
        case .number, .bool:
            return set.contains(.string(value.text))
        }
    }

    /// EQL multi-value semantics: `!=` holds when both sides have values and
    /// no pair is equal; every other comparison when any pair satisfies it.
    static func compare(_ lhs: FieldValues, _ op: Comparison, _ rhs: FieldValues) -> Bool {
        if lhs.isEmpty || rhs.isEmpty { return false }
        if op == .notEqual {
            return !lhs.contains { l in rhs.contains { r in equal(l, r) } }
        }
        return lhs.contains { l in rhs.contains { r in ordered(l, op, r) } }
    }

    /// Equality with light coercion: a number equals a string that reads as
    /// that number; a bool equals "true"/"false" in any case.
    static func equal(_ a: FieldValue, _ b: FieldValue, caseInsensitive: Bool = false) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            return caseInsensitive ? x.lowercased() == y.lowercased() : x == y
        case (.number(let x), .number(let y)):
            return x == y
        case (.bool(let x), .bool(let y)):
            return x == y
        case (.number(let x), .string(let y)), (.string(let y), .number(let x)):
            return Double(y) == x
        case (.bool(let x), .string(let y)), (.string(let y), .bool(let x)):
            return y.lowercased() == (x ? "true" : "false")
        default:
            return false
        }
    }

    static func ordered(_ l: FieldValue, _ op: Comparison, _ r: FieldValue) -> Bool {
        switch op {
        case .equal: return equal(l, r)
        case .notEqual: return !equal(l, r)
        default: break
        }
        let order: Int
        if case .string(let x) = l, case .string(let y) = r {
            order = x < y ? -1 : (x == y ? 0 : 1)
        } else if let x = l.numeric, let y = r.numeric {
            order = x < y ? -1 : (x == y ? 0 : 1)
        } else {
            return false
        }
        switch op {
        case .less: return order < 0
        case .lessEqual: return order <= 0
        case .greater: return order > 0
        case .greaterEqual: return order >= 0
        case .equal, .notEqual: return false
        }
    }
}

extension ConditionNode.Operand {
    /// Whether any value satisfies `predicate`: a field asks the context
    /// (which need not collect its values), a literal is tested directly.
    @inline(__always)
    func contains<C: EvaluationContext>(_ context: C, where predicate: (FieldValue) -> Bool) -> Bool {
        switch self {
        case .field(let reference): return context.containsValue(of: reference, where: predicate)
        case .literal(let value): return predicate(value)
        case .length: return values(context).contains(where: predicate)
        }
    }

    /// Whether the operand has at least one value.
    func hasValue<C: EvaluationContext>(_ context: C) -> Bool {
        contains(context) { _ in true }
    }

    func values<C: EvaluationContext>(_ context: C) -> FieldValues {
        switch self {
        case .field(let reference):
            return context.values(of: reference)
        case .literal(let value):
            return .one(value)
        case .length(let inner):
            var out: [FieldValue] = []
            for case .string(let s) in inner.values(context).all { out.append(.number(Double(s.count))) }
            return FieldValues(out)
        }
    }
}

extension ConditionNode.StringTest {
    func holds(for s: String) -> Bool {
        switch self {
        case .like(let patterns):
            return patterns.contains { $0.matches(s) }
        case .startsWith(let prefixes, let ci):
            let v = ci ? s.lowercased() : s
            return prefixes.contains { v.hasPrefix($0) }
        case .endsWith(let suffixes, let ci):
            let v = ci ? s.lowercased() : s
            return suffixes.contains { v.hasSuffix($0) }
        case .contains(let needles, let ci):
            let v = ci ? s.lowercased() : s
            return needles.contains { $0.isEmpty || v.contains($0) }
        }
    }
}
