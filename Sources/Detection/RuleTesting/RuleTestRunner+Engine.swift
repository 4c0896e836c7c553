import AuditEvents
import Enrichment

extension RuleTestRunner {
    /// Runs a sequence case through a ``DetectionEngine`` holding only the case's
    /// rule: every event in order, then ``DetectionEngine/finish()``; returns
    /// everything it emitted (alerts and dedup summaries).
    func sequenceAlerts(_ rule: Rule, _ testCase: RuleTestCase, _ events: [AuditEvent],
                        _ enrichments: [EventEnrichment]) -> [Alert] {
        var engine = DetectionEngine(rules: [rule], settings: settings)
        var alerts: [Alert] = []
        for (index, (event, enrichment)) in zip(events, enrichments).enumerated() {
            alerts += engine.process(event, enrichment: enrichment,
                                     origin: .file(path: testCase.origin.file, line: index + 1))
        }
        alerts += engine.finish()
        return alerts
    }
}
