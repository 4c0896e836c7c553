import AuditEvents

extension ConditionNode {
    /// The planned node as an ``EventTest`` for ``AuditEventContext``:
    /// `and`/`or`/`not` as chains of their lowered operands; a normalized
    /// field of the event's typed parts compared with a literal, tested for
    /// membership in strings, matched by a string predicate, tested for
    /// presence, or asked `isPublic`/`isTorExit`, read and compared natively;
    /// anything else (geo and raw paths, `length`, field-to-field
    /// comparisons, coercing literals) evaluated as the plan.
    ///
    /// Call on a planned node (``planned()``); the order of operands is kept.
    func lowered() -> EventTest {
        switch self {
        case .and(let nodes):
            return Self.chain(nodes.map { $0.lowered() }, AllOf.init) ?? PlanTest(self)
        case .or(let nodes):
            return Self.chain(nodes.map { $0.lowered() }, AnyOf.init) ?? PlanTest(self)
        case .not(let node):
            return Negation(node.lowered())
        case .fieldCompare(let field, let op, let literal, let literalFirst):
            return Self.lowered(field, op, literal, literalFirst: literalFirst) ?? PlanTest(self)
        case .member(.field(let field), let set, let caseInsensitive):
            guard let text = field.textField else { return PlanTest(self) }
            var strings = Set<String>()
            for case .string(let s) in set { strings.insert(s) }
            // A number or boolean in the set could equal a coerced text value: keep the plan.
            guard strings.count == set.count else { return PlanTest(self) }
            return TextMember(text, strings, caseInsensitive: caseInsensitive)
        case .string(.field(let field), let test):
            guard let text = field.textField else { return PlanTest(self) }
            return TextPredicate(text, test)
        case .present(.field(let field), let wanted):
            guard let text = field.textField else { return PlanTest(self) }
            return TextPresence(text, wanted: wanted)
        case .truthy(.field(let field)):
            guard let flag = field.flagField else { return PlanTest(self) }
            return FlagTest(flag, wanted: true, negated: false)
        case .isPublic(.field(let field)):
            guard let text = field.textField else { return PlanTest(self) }
            return AddressTest(text, .isPublic)
        case .isTorExit(.field(let field)):
            guard let text = field.textField else { return PlanTest(self) }
            return AddressTest(text, .isTorExit)
        default:
            return PlanTest(self)
        }
    }

    /// `tests` joined right to left by `link` (nil when empty).
    private static func chain(_ tests: [EventTest], _ link: (EventTest, EventTest) -> EventTest) -> EventTest? {
        guard var out = tests.last else { return nil }
        for test in tests.dropLast().reversed() { out = link(test, out) }
        return out
    }

    /// A field-to-literal comparison specialized by the field's type, when
    /// the literal's type makes the plan's coercions moot; nil otherwise.
    private static func lowered(_ field: FieldReference, _ op: Comparison, _ literal: FieldValue,
                                literalFirst: Bool) -> EventTest? {
        guard let normalized = field.normalized else { return nil }
        switch literal {
        case .number(let n):
            guard let number = NumberField(normalized) else { return nil }
            return NumberTest(number, op, n, literalFirst: literalFirst)
        case .string(let s):
            guard op == .equal || op == .notEqual else { return nil }
            if normalized == .logType {
                return LogTypeTest(LogType(rawValue: s), equal: op == .equal)
            }
            guard let text = TextField(normalized) else { return nil }
            return TextEquals(text, s, negated: op == .notEqual)
        case .bool(let b):
            guard op == .equal || op == .notEqual, let flag = FlagField(normalized) else { return nil }
            return FlagTest(flag, wanted: b, negated: op == .notEqual)
        }
    }
}

extension FieldReference {
    /// The text field of the event this name denotes, if any.
    var textField: TextField? { normalized.flatMap(TextField.init) }
    /// The boolean field of the event this name denotes, if any.
    var flagField: FlagField? { normalized.flatMap(FlagField.init) }
}
