import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// Rule state as plain values: export from one engine, import into another,
/// and the stream goes on as if it had never stopped.
@Suite struct EngineStateTests {
    typealias F = EngineFixtures

    @Test func exportedStateRestoresIntoAFreshEngine() throws {
        let threshold = try F.rule(id: "Test.Threshold", threshold: 3, dedupMinutes: 30)
        let aggregate = Rule.Aggregate(window: RuleDuration(seconds: 3600),
                                       groupBy: [FieldReference("source.ip")!],
                                       stats: [Rule.Statistic(name: "count", function: .count)],
                                       having: try Condition("count > 2"))
        let scanning = try F.rule(id: "Test.Aggregate", aggregate: aggregate)
        let rules = [threshold, scanning]
        let inputs = F.inputs((0..<12).map { F.event(at: Double($0) * 300, ip: $0 % 2 == 0 ? "5.5.5.5" : "6.6.6.6") })
        let whole = F.run(rules, inputs).alerts

        var first = DetectionEngine(rules: rules)
        var alerts: [Alert] = []
        for input in inputs.prefix(7) {
            alerts += first.process(input.event, enrichment: .none, origin: .file(path: "events.jsonl", line: input.line))
        }
        let state = first.exportState()
        #expect(!state.entries.isEmpty)
        #expect(state.entries.contains { if case .threshold = $0.state { true } else { false } })
        #expect(state.entries.contains { if case .aggregate = $0.state { true } else { false } })
        #expect(state.entries.contains { if case .threshold(let key) = $0.state { !key.fired.isEmpty } else { false } })

        // Through JSON (Codable), as a changelog would carry it.
        let data = try JSONEncoder().encode(state)
        let decoded = try JSONDecoder().decode(EngineState.self, from: data)
        #expect(decoded == state)

        var second = DetectionEngine(rules: rules)
        #expect(second.importState(decoded) == 0)
        #expect(second.exportState() == state)
        for input in inputs.dropFirst(7) {
            alerts += second.process(input.event, enrichment: .none, origin: .file(path: "events.jsonl", line: input.line))
        }
        alerts += second.finish()
        #expect(alerts.map(\.json) == whole.map(\.json))
    }

    @Test func entriesOfUnknownRulesAreSkippedAndCounted() throws {
        let rule = try F.rule(dedupMinutes: 30)
        var engine = DetectionEngine(rules: [rule])
        let entry = RuleStateEntry(ruleID: "Gone.Rule", key: "x", state: .threshold(ThresholdKeyState()))
        #expect(engine.importState(EngineState(eventTime: nil, entries: [entry])) == 1)
    }
}
