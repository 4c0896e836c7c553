import AuditEvents
import Foundation
import Testing
@testable import Detection

/// A rule set swapped into a running engine (hot reload): state follows the rule's id and
/// state shape; everything else about a rule may change and its open windows stay.
@Suite struct EngineReloadTests {
    typealias F = EngineFixtures

    /// Five 403s from one IP into an engine with a threshold-10 rule.
    func engineWithFiveMatches(_ rule: Rule) -> DetectionEngine {
        var engine = DetectionEngine(rules: [rule])
        for i in 0..<5 {
            #expect(engine.process(F.event(at: Double(i)), enrichment: .none, origin: .file(path: "e", line: i)).isEmpty)
        }
        return engine
    }

    /// Five more 403s after the reload: the count reaches ten only if the first five were kept.
    func alertsAfterFiveMore(_ engine: inout DetectionEngine) -> [Alert] {
        (5..<10).flatMap { i in
            engine.process(F.event(at: Double(i)), enrichment: .none, origin: .file(path: "e", line: i))
        }
    }

    @Test func unchangedShapeKeepsOpenWindowsAndTakesTheNewTitle() throws {
        let before = try F.rule(threshold: 10, dedupMinutes: 30)
        var engine = engineWithFiveMatches(before)
        // A new condition and title, same threshold, period and group-by.
        let after = try F.rule(where: "response.code in (401, 403)", threshold: 10, dedupMinutes: 30,
                               title: "new title {source.ip}")
        engine = engine.reloading([after])
        let alerts = alertsAfterFiveMore(&engine)
        #expect(alerts.count == 1)
        #expect(alerts.first?.title == "new title 5.5.5.5")
        #expect(alerts.first?.count == 10)
        #expect(engine.statistics.rules[before.id]?.matches == 10)
        #expect(engine.eventTime == F.event(at: 9).time)
    }

    @Test func changedWindowDropsThatRulesStateOnly() throws {
        let kept = try F.rule(id: "Kept", threshold: 10, dedupMinutes: 30)
        let changed = try F.rule(id: "Changed", threshold: 10, dedupMinutes: 30)
        var engine = DetectionEngine(rules: [kept, changed])
        for i in 0..<5 { _ = engine.process(F.event(at: Double(i)), enrichment: .none, origin: .file(path: "e", line: i)) }
        let changedWindow = try F.rule(id: "Changed", threshold: 10, dedupMinutes: 60)
        let effect = RuleReloadEffect(from: [kept, changed], to: [kept, changedWindow])
        #expect(effect.kept == ["Kept"] && effect.reset == ["Changed"] && effect.added.isEmpty && effect.removed.isEmpty)
        engine = engine.reloading([kept, changedWindow])
        #expect(engine.exportState().entries.map(\.ruleID) == ["Kept"])
        let alerts = alertsAfterFiveMore(&engine)
        #expect(alerts.map(\.ruleID) == ["Kept"])
    }

    @Test func removedRuleStateIsDroppedAndAddedRuleStartsEmpty() throws {
        let old = try F.rule(id: "Old", threshold: 10, dedupMinutes: 30)
        var engine = engineWithFiveMatches(old)
        let new = try F.rule(id: "New", threshold: 10, dedupMinutes: 30)
        let effect = RuleReloadEffect(from: [old], to: [new])
        #expect(effect.added == ["New"] && effect.removed == ["Old"])
        engine = engine.reloading([new])
        #expect(engine.exportState().entries.isEmpty)
        #expect(alertsAfterFiveMore(&engine).isEmpty)
        #expect(engine.statistics.rules["Old"] == nil)
        // The clock stays: the new rule's windows run on the same event time.
        #expect(engine.eventTime == F.event(at: 9).time)
    }

    @Test func disabledRuleCountsAsRemoved() throws {
        let rule = try F.rule(id: "R", threshold: 10, dedupMinutes: 30)
        let effect = RuleReloadEffect(from: [rule], to: [])
        #expect(effect.removed == ["R"])
        #expect(RuleReloadEffect(from: [], to: [rule]).added == ["R"])
    }

    @Test func aggregateGroupsCarryOverWhenOnlyHavingChanges() throws {
        let stats = [Rule.Statistic(name: "count", function: .count)]
        let groupBy = [try #require(FieldReference("source.ip"))]
        let spec = Rule.Aggregate(window: RuleDuration(seconds: 3600), groupBy: groupBy, stats: stats,
                                  having: try Condition("count > 100"))
        let before = try F.rule(id: "Agg", aggregate: spec)
        var engine = DetectionEngine(rules: [before])
        for i in 0..<6 { _ = engine.process(F.event(at: Double(i)), enrichment: .none, origin: .file(path: "e", line: i)) }
        let lowered = Rule.Aggregate(window: spec.window, groupBy: groupBy, stats: stats, having: try Condition("count > 5"))
        engine = engine.reloading([try F.rule(id: "Agg", aggregate: lowered)])
        let alerts = engine.finish()
        #expect(alerts.count == 1)
        #expect(alerts.first?.count == 6)
    }

    /// The fingerprint a changelog entry carries: the same text in every process (not a seeded
    /// `hashValue`), equal for equal shapes, different when the shape changes.
    @Test func shapeFingerprintIsStableAndFollowsTheShape() throws {
        let rule = try F.rule(threshold: 10, dedupMinutes: 30)
        #expect(rule.stateShape.fingerprint == "20b453d91c39681f")
        #expect(try F.rule(where: "verb == \"get\"", threshold: 10, dedupMinutes: 30, title: "other").stateShape.fingerprint
                == rule.stateShape.fingerprint)
        #expect(try F.rule(threshold: 10, dedupMinutes: 60).stateShape.fingerprint != rule.stateShape.fingerprint)
        #expect(try F.rule(threshold: 10, dedupMinutes: 30, groupBy: ["user.name"]).stateShape.fingerprint
                != rule.stateShape.fingerprint)
    }
}
