import Enrichment

/// What a compiled ``Condition`` asks of the event it is evaluated against.
///
/// The pipeline adapts an ``AuditEvent`` (see ``AuditEventContext``); tests
/// use ``DictionaryContext``.
public protocol EvaluationContext {
    /// The values of a field; `.none` when the event has no such field.
    func values(of field: FieldReference) -> FieldValues
    /// Whether any value of `field` satisfies `predicate` (false when it has
    /// none): what `values(of:).contains(where:)` answers. The default does
    /// exactly that; a context may answer without collecting the values.
    func containsValue(of field: FieldReference, where predicate: (FieldValue) -> Bool) -> Bool
    /// Whether `ip` is a public address (Python's `ipaddress.is_global`).
    func isPublic(_ ip: String) -> Bool
    /// Whether `ip` is a Tor exit node at the event's time.
    func isTorExit(_ ip: String) -> Bool
}

extension EvaluationContext {
    public func containsValue(of field: FieldReference, where predicate: (FieldValue) -> Bool) -> Bool {
        values(of: field).contains(where: predicate)
    }

    /// The default: ``IPAddress/isGlobal``; text that is no IP is not public.
    public func isPublic(_ ip: String) -> Bool {
        IPAddress(ip)?.isGlobal ?? false
    }
}
