import AuditEvents
import Enrichment

/// A planned condition lowered for ``AuditEventContext``: a tree of small
/// final classes, each holding its operands as plain stored constants, so
/// evaluation borrows them (no enum payload copies, no `FieldValue` per
/// value). Comparisons of the event's typed fields with a literal read the
/// field straight from the event and compare natively; every other node
/// runs the plan's ``ConditionNode/evaluate(_:)``, so the answers are the
/// plan's by construction (``ConditionNode/lowered()`` says which forms
/// are specialized; `ConditionLoweringTests` checks them against the tree).
///
/// Immutable after construction, hence `@unchecked Sendable` (a non-final
/// class cannot be checked); subclasses add only `let` properties.
class EventTest: @unchecked Sendable {
    /// Whether the event behind `context` satisfies the condition.
    func holds(_ context: AuditEventContext) -> Bool { false }
}

/// Two operands held directly (read in place, unlike array elements): an
/// n-ary `and`/`or` nests as a chain of these.
class Pair: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let first: EventTest
    let rest: EventTest
    init(_ first: EventTest, _ rest: EventTest) {
        self.first = first
        self.rest = rest
    }
}

/// `first and rest`.
final class AllOf: Pair, @unchecked Sendable {  // immutable, as EventTest
    override func holds(_ context: AuditEventContext) -> Bool { first.holds(context) && rest.holds(context) }
}

/// `first or rest`.
final class AnyOf: Pair, @unchecked Sendable {  // immutable, as EventTest
    override func holds(_ context: AuditEventContext) -> Bool { first.holds(context) || rest.holds(context) }
}

final class Negation: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let inner: EventTest
    init(_ inner: EventTest) { self.inner = inner }
    override func holds(_ context: AuditEventContext) -> Bool { !inner.holds(context) }
}

/// Any node not specialized: the plan's own evaluation.
final class PlanTest: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let node: ConditionNode
    init(_ node: ConditionNode) { self.node = node }
    override func holds(_ context: AuditEventContext) -> Bool { node.evaluate(context) }
}

/// `log_type == "T"` / `log_type != "T"`: the type compared as an enum
/// (`type` nil: the literal names no log type, so `==` never holds).
final class LogTypeTest: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let type: LogType?
    let equal: Bool
    init(_ type: LogType?, equal: Bool) {
        self.type = type
        self.equal = equal
    }
    override func holds(_ context: AuditEventContext) -> Bool { (context.event.logType == type) == equal }
}

/// A boolean field equal to `wanted` (`kubernetes`, `x == true`), or, with
/// `negated`, present and different (`x != true`).
final class FlagTest: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let field: FlagField
    let wanted: Bool
    let negated: Bool
    init(_ field: FlagField, wanted: Bool, negated: Bool) {
        self.field = field
        self.wanted = wanted
        self.negated = negated
    }
    override func holds(_ context: AuditEventContext) -> Bool {
        guard let value = field.value(in: context.event) else { return false }
        return (value == wanted) != negated
    }
}

/// An integer field compared with a number (`response.code == 403`), by
/// the same order as ``ConditionNode/ordered(_:_:_:)``; `!=` holds when the
/// field is present and differs.
final class NumberTest: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let field: NumberField
    let comparison: ConditionNode.Comparison
    let literal: Double
    let literalFirst: Bool
    init(_ field: NumberField, _ comparison: ConditionNode.Comparison, _ literal: Double, literalFirst: Bool) {
        self.field = field
        self.comparison = comparison
        self.literal = literal
        self.literalFirst = literalFirst
    }
    override func holds(_ context: AuditEventContext) -> Bool {
        guard let value = field.value(in: context.event) else { return false }
        let x = Double(value)
        let (l, r) = literalFirst ? (literal, x) : (x, literal)
        let order = l < r ? -1 : (l == r ? 0 : 1)
        switch comparison {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessEqual: return order <= 0
        case .greater: return order > 0
        case .greaterEqual: return order >= 0
        }
    }
}

/// A text field equal to a string (any value, EQL), or with `negated`,
/// having values none of which is equal (`!=`).
final class TextEquals: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let field: TextField
    let literal: String
    let negated: Bool
    init(_ field: TextField, _ literal: String, negated: Bool) {
        self.field = field
        self.literal = literal
        self.negated = negated
    }
    override func holds(_ context: AuditEventContext) -> Bool {
        let literal = self.literal
        if negated {
            var any = false
            let equalOne = field.contains(in: context.event) { value in
                any = true
                return value == literal
            }
            return any && !equalOne
        }
        return field.contains(in: context.event) { $0 == literal }
    }
}

/// A text field `in (...)` strings only (``ConditionNode/member(_:_:caseInsensitive:)``
/// whose set holds no number or boolean, so no coercion can apply).
final class TextMember: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let field: TextField
    let set: Set<String>
    let caseInsensitive: Bool
    init(_ field: TextField, _ set: Set<String>, caseInsensitive: Bool) {
        self.field = field
        self.set = set
        self.caseInsensitive = caseInsensitive
    }
    override func holds(_ context: AuditEventContext) -> Bool {
        let set = self.set
        if caseInsensitive { return field.contains(in: context.event) { set.contains($0.lowercased()) } }
        return field.contains(in: context.event) { set.contains($0) }
    }
}

/// A string predicate (`like`, `startsWith`, ...) over a text field.
final class TextPredicate: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let field: TextField
    let test: ConditionNode.StringTest
    init(_ field: TextField, _ test: ConditionNode.StringTest) {
        self.field = field
        self.test = test
    }
    override func holds(_ context: AuditEventContext) -> Bool {
        let test = self.test
        return field.contains(in: context.event) { test.holds(for: $0) }
    }
}

/// `x == null` / `x != null` on a text field.
final class TextPresence: EventTest, @unchecked Sendable {  // immutable, as EventTest
    let field: TextField
    let wanted: Bool
    init(_ field: TextField, wanted: Bool) {
        self.field = field
        self.wanted = wanted
    }
    override func holds(_ context: AuditEventContext) -> Bool {
        field.contains(in: context.event) { _ in true } == wanted
    }
}

/// `isPublic(x)` / `isTorExit(x)` over a text field (the source IPs).
final class AddressTest: EventTest, @unchecked Sendable {  // immutable, as EventTest
    enum Kind { case isPublic, isTorExit }
    let field: TextField
    let kind: Kind
    init(_ field: TextField, _ kind: Kind) {
        self.field = field
        self.kind = kind
    }
    override func holds(_ context: AuditEventContext) -> Bool {
        // The closures capture no context where it can be helped (capturing
        // it copied it: a retain and a release per reference inside).
        switch kind {
        case .isPublic:
            return field.contains(in: context.event) { AuditEventContext.isPublic($0) }
        case .isTorExit:
            // An enrichment that found no Tor exit among the event's source IPs answers no for each.
            if context.enrichmentHasNoTorExit { return false }
            return field.contains(in: context.event) { context.isTorExit($0) }
        }
    }
}
