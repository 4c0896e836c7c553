/// A compiled condition in Vigil's EQL subset.
///
/// Compile once (`try Condition("...")`), then evaluate per event; nothing is
/// parsed at evaluation time. See `README.md` beside this file for the
/// language and its null / multi-value semantics.
public struct Condition: Sendable, Hashable, CustomStringConvertible {
    /// The condition text as written.
    public let text: String
    let root: ConditionNode
    /// `root` as evaluated (``ConditionNode/planned()``: cheap tests first).
    let plan: ConditionNode
    /// `plan` lowered for ``AuditEventContext`` (``ConditionNode/lowered()``):
    /// what `evaluate(_: AuditEventContext)` runs.
    let program: EventTest
    /// The fields the condition reads, in order of first mention (for rule
    /// validation and for choosing what an alert carries).
    public let fields: [FieldReference]

    /// Parses and compiles `text`; throws a ``ConditionError`` located at the
    /// offending token.
    public init(_ text: String) throws(ConditionError) {
        let source = ConditionSource(text)
        let tokens = try ConditionLexer.tokenize(source)
        var parser = ConditionParser(source: source, tokens: tokens)
        self.text = text
        let root = try parser.parseCondition()
        self.root = root
        plan = root.planned()
        program = plan.lowered()
        self.fields = root.fields
    }

    /// Whether the event behind `context` satisfies the condition.
    @inlinable
    public func evaluate<C: EvaluationContext>(_ context: C) -> Bool {
        evaluateRoot(context)
    }

    /// Whether `context`'s event satisfies the condition: the same as the
    /// generic form, compiled for ``AuditEventContext`` inside this module so
    /// callers in other modules get the specialized evaluation.
    public func evaluate(_ context: AuditEventContext) -> Bool {
        program.holds(context)
    }

    @usableFromInline
    func evaluateRoot<C: EvaluationContext>(_ context: C) -> Bool {
        plan.evaluate(context)
    }

    public var description: String { text }

    /// Equal when written alike and compiled alike (plan and program derive from `root`).
    public static func == (a: Condition, b: Condition) -> Bool {
        a.text == b.text && a.root == b.root
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(text)
    }
}
