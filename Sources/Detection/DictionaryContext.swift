/// An evaluation context over a dictionary of field name → values, for tests
/// and tools that have no decoded event.
///
/// Fields are looked up by ``FieldReference/name`` and then by its dotted
/// form, so `user.name` and `` `user.name` `` both find key `"user.name"`.
public struct DictionaryContext: EvaluationContext, Sendable {
    public var fields: [String: FieldValues]
    public var torExitNodes: Set<String>

    public init(_ fields: [String: FieldValues], torExitNodes: Set<String> = []) {
        self.fields = fields
        self.torExitNodes = torExitNodes
    }

    public func values(of field: FieldReference) -> FieldValues {
        fields[field.name] ?? fields[field.dottedName] ?? .none
    }

    public func isTorExit(_ ip: String) -> Bool {
        torExitNodes.contains(ip)
    }
}
