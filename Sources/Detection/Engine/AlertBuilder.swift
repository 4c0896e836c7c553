import AuditEvents
import Enrichment

/// Builds the alerts of one rule from the event that completes them.
struct AlertBuilder: Sendable {
    let rule: Rule
    let groupBy: [FieldReference]
    let maxReferences: Int

    /// An alert for `window` of `key`, rendered over the event in `context`:
    /// as of the `threshold`-th match of the window (its matches are sorted),
    /// whatever the order they arrived in; the rest go to the summary.
    func alert(key: String, window: ThresholdWindow, threshold: Int, context: AuditEventContext,
               enrichment: EventEnrichment) -> Alert {
        let start = EventTime(nanos: window.start)
        let count = min(window.count, max(threshold, 1))
        let last = count - 1 < window.matches.count ? window.matches[count - 1].time : window.lastSeen
        let refs = Array(window.matches.prefix(min(maxReferences, count)))
        return Alert(
            id: Alert.id(rule: rule.id, groupKey: key, windowStart: start),
            kind: .alert, ruleID: rule.id, title: rule.title.render(context), severity: rule.severity,
            mitre: rule.mitre, runbook: rule.runbook, dedupKey: rule.dedup?.key?.render(context),
            windowStart: start, firstSeen: start, lastSeen: EventTime(nanos: last),
            count: count,
            groupKey: groupBy.map { Alert.Field(name: $0.name, values: context.values(of: $0).all) },
            source: Self.source(context.event, enrichment),
            output: rule.output.map { Alert.Field(name: $0.name, values: context.values(of: $0).all) },
            statistics: [], events: refs.map(\.origin), eventsOmitted: count - refs.count,
            dataVersions: Alert.DataVersions(enrichment))
    }

    /// The dedup summary closing a fired window: the alert with the final count,
    /// last_seen and references.
    func summary(of window: ThresholdWindow) -> Alert? {
        guard var alert = window.alert, window.count > alert.count else { return nil }
        alert.kind = .summary
        alert.count = window.count
        alert.lastSeen = EventTime(nanos: window.lastSeen)
        let refs = window.matches.prefix(maxReferences)
        alert.events = refs.map(\.origin)
        alert.eventsOmitted = window.count - refs.count
        return alert
    }

    static func source(_ event: AuditEvent, _ enrichment: EventEnrichment) -> Alert.Source? {
        guard let ip = event.sourceIP else { return nil }
        return Alert.Source(ip: ip, isTorExit: enrichment.isTorExit(ip), geo: enrichment.geo)
    }
}
