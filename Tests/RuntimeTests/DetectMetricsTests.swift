import AuditEvents
import Detection
@testable import Runtime
import Testing

/// Values read from records reach the metrics: none of them may trap there.
@Suite struct DetectMetricsTests {
    /// Detect dead-letters a repartition record for any reason, skip reasons included (no
    /// value: `empty_record`; a version-2 event that decodes to a skip), and counts each.
    @Test func everyDeadLetterReasonOfARepartitionRecordIsCounted() {
        let metrics = DetectMetrics(repartitionTopic: "vigil.events.by-key", rules: [])
        #expect(Set(metrics.deadLetters.keys) == Set(DecodeIssue.Reason.allCases))
        #expect(metrics.deadLetters[.emptyRecord] != nil)
        // A raw record dead-letters only for the others (a skip is counted as skipped).
        #expect(Set(DeadLetterRecord.counters(topic: "eks").keys) == Set(DecodeIssue.Reason.allCases.filter { !$0.isSkip }))
    }

    /// An alert's arrival comes from a raw record's CreateTime or a repartition value, so it
    /// can be any Int64; the latency from it saturates instead of overflowing.
    @Test func anAlertsArrivalAtEitherEndOfTime() {
        let metrics = DetectMetrics(repartitionTopic: "vigil.events.by-key", rules: [])
        for arrival in [Int64.min, Int64.min + 1, -1, 0, Int64.max] {
            for now in [Int64.min, 0, 1_800_000_000_000, Int64.max] {
                metrics.alertDelivered(rule: "r", severity: .high, arrival: arrival, nowMilliseconds: now)
            }
        }
    }
}
