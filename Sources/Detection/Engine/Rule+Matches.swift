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

extension Rule {
    /// Every event field the rule reads: its condition, title, dedup key, group-by fields,
    /// output fields and statistics (`having` reads the statistics and group-by fields).
    public var fieldsRead: [FieldReference] {
        var out = condition.fields + title.fields + output
        if let threshold { out += threshold.groupBy }
        if let dedup { out += dedup.groupBy + (dedup.key?.fields ?? []) }
        if let aggregate {
            out += aggregate.groupBy
            for statistic in aggregate.stats {
                switch statistic.function {
                case .count: break
                case .values(let f), .distinctCount(let f), .min(let f), .max(let f): out.append(f)
                }
            }
        }
        return out
    }

    /// The raw JSON paths the rule reads: fields that are neither normalized nor geo fields,
    /// answered from the event's document (``AuditEvent/rawValue(at:)``).
    public var rawPaths: [FieldReference] {
        var seen: Set<FieldReference> = []
        return fieldsRead.filter { $0.normalized == nil && $0.geo == nil && seen.insert($0).inserted }
    }
}
