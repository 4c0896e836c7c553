import AuditEvents
import Enrichment

/// Builds the alerts of one rule from the event that completes them.
///
/// A class: stores hold it and the per-match paths pass it around; as a struct
/// each copy retained every reference in the rule it holds.
final class AlertBuilder: Sendable {
    let rule: Rule
    let groupBy: [FieldReference]
    let maxReferences: Int
    /// The fields an alert reads from its event besides the group-by fields: those
    /// of the title, the dedup key and the output (each once, in that order).
    let contentFields: [FieldReference]

    init(rule: Rule, groupBy: [FieldReference], maxReferences: Int) {
        self.rule = rule
        self.groupBy = groupBy
        self.maxReferences = maxReferences
        var fields: [FieldReference] = []
        for field in rule.title.fields + (rule.dedup?.key?.fields ?? []) + rule.output
        where !groupBy.contains(field) && !fields.contains(field) {
            fields.append(field)
        }
        contentFields = fields
    }

    /// An alert for `window` of `key`, rendered over the event in `context`:
    /// as of the `threshold`-th match of the window (its matches are sorted),
    /// whatever the order they arrived in; the rest go to the summary.
    func alert(key: String, window: ThresholdWindow, threshold: Int, context: AuditEventContext,
               enrichment: EventEnrichment) -> Alert {
        let start = EventTime(nanos: window.start)
        let count = min(window.count, max(threshold, 1))
        let last = count - 1 < window.refs.count ? window.refs[count - 1].time : window.lastSeen
        let refs = window.refs.prefix(min(maxReferences, count))
        return Alert(rule: rule, key: key, windowStart: start, over: context,
                     firstSeen: start, lastSeen: EventTime(nanos: last), count: count,
                     groupKey: Alert.fields(groupBy, in: context), source: Self.source(context.event, enrichment),
                     statistics: [], events: refs.map(\.origin), eventsOmitted: count - refs.count,
                     dataVersions: Alert.DataVersions(enrichment))
    }

    /// The dedup summary closing a fired window of `key` (its diff in `diffs`): the alert
    /// with the final count, last_seen and references.
    func summary(of window: ThresholdWindow, key: String, diffs: DiffArena) -> Alert? {
        guard let counted = window.alertCount, window.count > counted,
              var alert = window.alert(key: key, diffs: diffs) else { return nil }
        alert.kind = .summary
        alert.count = window.count
        alert.lastSeen = EventTime(nanos: window.lastSeen)
        let refs = window.refs.prefix(maxReferences)
        alert.events = refs.map(\.origin)
        alert.eventsOmitted = window.count - refs.count
        return alert
    }

    static func source(_ event: AuditEvent, _ enrichment: EventEnrichment) -> Alert.Source? {
        guard let ip = event.sourceIP else { return nil }
        return Alert.Source(ip: ip, isTorExit: enrichment.isTorExit(ip), geo: enrichment.geo)
    }
}

extension Alert {
    /// A new alert of `rule` for the window of group key `key` opened at
    /// `windowStart`: its id, the rule's fields, and the title, dedup key and
    /// output fields rendered over `context`; the rest as the window knows it.
    init<C: EvaluationContext>(rule: Rule, key: String, windowStart: EventTime, over context: C,
                               firstSeen: EventTime, lastSeen: EventTime, count: Int, groupKey: [Field],
                               source: Source?, statistics: [Field], events: [EventOrigin], eventsOmitted: Int,
                               dataVersions: DataVersions) {
        self.init(id: Alert.id(rule: rule.id, groupKey: key, windowStart: windowStart),
                  kind: .alert, ruleID: rule.id, title: rule.title.render(context), severity: rule.severity,
                  mitre: rule.mitre, runbook: rule.runbook, dedupKey: rule.dedup?.key?.render(context),
                  windowStart: windowStart, firstSeen: firstSeen, lastSeen: lastSeen, count: count,
                  groupKey: groupKey, source: source, output: Self.fields(rule.output, in: context),
                  statistics: statistics, events: events, eventsOmitted: eventsOmitted, dataVersions: dataVersions)
    }

    /// The values of `references` in `context`, as named fields.
    static func fields<C: EvaluationContext>(_ references: [FieldReference], in context: C) -> [Field] {
        references.map { Field(name: $0.name, values: context.values(of: $0).all) }
    }
}
