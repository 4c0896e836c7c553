import AuditEvents
import Enrichment

extension Rule {
    /// Whether the rule reads events of `logType`: one of its log types, or
    /// any type when it names none.
    public func reads(_ logType: LogType) -> Bool {
        logTypes.isEmpty || logTypes.contains(logType)
    }

    /// Whether the rule applies to `event`: its log type is one of the rule's
    /// and the `where:` condition holds (geo fields and Tor membership from
    /// `enrichment`). Stateless: no threshold, dedup or window is consulted.
    public func matches(_ event: AuditEvent, enrichment: EventEnrichment) -> Bool {
        guard reads(event.logType) else { return false }
        return condition.evaluate(AuditEventContext(event: event, enrichment: enrichment))
    }
}
