import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// The engine's dirty-entry tracking (`takeChanges()`): applied to the entries taken before,
/// the changes give the whole state, whatever happened in between.
@Suite struct EngineChangesTests {
    typealias F = EngineFixtures
    typealias ID = RuleStateEntry.ID

    static func rules() throws -> [Rule] {
        let aggregate = Rule.Aggregate(window: RuleDuration(seconds: 3600),
                                       groupBy: [FieldReference("source.ip")!],
                                       stats: [Rule.Statistic(name: "count", function: .count)],
                                       having: try Condition("count > 2"))
        return [try F.rule(id: "Test.Threshold", threshold: 3, dedupMinutes: 30),
                try F.rule(id: "Test.Dedup", dedupMinutes: 10),
                try F.rule(id: "Test.Aggregate", aggregate: aggregate)]
    }

    /// A saved copy of the state, kept up to date from changes alone (as the changelog is).
    struct Copy {
        var entries: [ID: RuleStateEntry] = [:]
        var eventTime: Int64?

        mutating func apply(_ changes: EngineChanges) {
            for entry in changes.changed { entries[entry.id] = entry }
            for id in changes.ended { entries[id] = nil }
            eventTime = changes.eventTime
        }

        func matches(_ state: EngineState) -> Bool {
            eventTime == state.eventTime && entries == Dictionary(uniqueKeysWithValues: state.entries.map { ($0.id, $0) })
        }
    }

    static func process(_ engine: inout DetectionEngine, _ event: AuditEvent, line: Int) {
        _ = engine.process(event, enrichment: .none, origin: .file(path: "events.jsonl", line: line))
    }

    @Test func changesAppliedToTheSavedCopyGiveTheWholeStateAfterEveryRound() throws {
        // 40 IPs, events spread over five hours with jumps (windows fire, close and expire),
        // some late by more than the allowed lateness, a key cap that evicts: after every round
        // the copy kept from changes equals the exported state.
        var engine = DetectionEngine(rules: try Self.rules(),
                                     settings: EngineSettings(allowedLateness: 1800, maxKeysPerRule: 25),
                                     tracksChanges: true)
        var copy = Copy()
        var rounds = 0, changed = 0, ended = 0
        var seconds = 0.0
        for i in 0..<1500 {
            let jump = i % 97 == 0 ? 2400.0 : Double((i * 7) % 13)
            seconds += jump
            let late = i % 31 == 0 ? -3000.0 : 0
            Self.process(&engine, F.event(at: seconds + late, ip: "5.5.\(i % 3).\((i * 13) % 40)"), line: i)
            if i % 17 == 0 {
                let changes = engine.takeChanges()
                changed += changes.changed.count
                ended += changes.ended.count
                copy.apply(changes)
                #expect(copy.matches(engine.exportState()), "round \(rounds)")
                rounds += 1
            }
        }
        _ = engine.advance(to: Date(timeIntervalSince1970: Double(F.t0.seconds) + seconds + 7200))
        copy.apply(engine.takeChanges())
        #expect(copy.matches(engine.exportState()))
        #expect(copy.entries.isEmpty, "every window ended: \(copy.entries.keys)")
        let stats = engine.statistics
        #expect(stats.rules.values.contains { $0.evictions > 0 }, "the cap bit: \(stats)")
        #expect(changed > 0 && ended > 0)
        _ = engine.finish()
        #expect(engine.takeChanges().changed.isEmpty)
    }

    @Test func aRoundListsChangedEntriesEndedOnesAndNothingElse() throws {
        var engine = DetectionEngine(rules: try Self.rules(), settings: EngineSettings(allowedLateness: 0),
                                     tracksChanges: true)
        Self.process(&engine, F.event(at: 0, ip: "5.5.5.5"), line: 1)
        Self.process(&engine, F.event(at: 1, ip: "6.6.6.6"), line: 2)
        var changes = engine.takeChanges()
        let first = Set(changes.changed.map(\.id))
        let windowStart = F.t0.nanos  // t0 is on the hour: the aggregate window's start
        #expect(first == [ID(ruleID: "Test.Threshold", key: "s5.5.5.5"), ID(ruleID: "Test.Threshold", key: "s6.6.6.6"),
                          ID(ruleID: "Test.Dedup", key: "s5.5.5.5"), ID(ruleID: "Test.Dedup", key: "s6.6.6.6"),
                          ID(ruleID: "Test.Aggregate", key: "s5.5.5.5", windowStart: windowStart),
                          ID(ruleID: "Test.Aggregate", key: "s6.6.6.6", windowStart: windowStart)], "\(first)")
        #expect(changes.ended.isEmpty)
        #expect(changes.eventTime == F.t0.nanos + 1_000_000_000)

        // Nothing happened: nothing to say. One IP again: only its entries.
        #expect(engine.takeChanges().changed.isEmpty)
        Self.process(&engine, F.event(at: 2, ip: "6.6.6.6"), line: 3)
        changes = engine.takeChanges()
        #expect(Set(changes.changed.map(\.key)) == ["s6.6.6.6"] && changes.changed.count == 3)

        // Three hours on (another IP): every window of the first two IPs ended.
        Self.process(&engine, F.event(at: 7200 + 3600, ip: "7.7.7.7"), line: 4)
        changes = engine.takeChanges()
        #expect(Set(changes.ended) == first, "\(changes.ended)")
        #expect(Set(changes.changed.map(\.key)) == ["s7.7.7.7"])
    }

    @Test func anEndedEntryMadeAgainInTheSameRoundIsChangedNotEnded() throws {
        let rule = try F.rule(id: "Test.Dedup", dedupMinutes: 10)
        var engine = DetectionEngine(rules: [rule], settings: EngineSettings(allowedLateness: 0), tracksChanges: true)
        Self.process(&engine, F.event(at: 0), line: 1)
        _ = engine.takeChanges()
        // The dedup period ends at 600 s; the event at 700 s ends it and opens the key again.
        Self.process(&engine, F.event(at: 700), line: 2)
        let changes = engine.takeChanges()
        #expect(changes.ended.isEmpty)
        #expect(changes.changed.map(\.id) == [ID(ruleID: "Test.Dedup", key: "s5.5.5.5")])
        guard case .threshold(let state) = changes.changed.first?.state else {
            Issue.record("not a threshold entry")
            return
        }
        #expect(state.fired.map(\.start) == [F.t0.nanos + 700_000_000_000])
    }

    @Test func anEvictedEntryEnds() throws {
        let rule = try F.rule(id: "Test.Threshold", threshold: 5, dedupMinutes: 30)
        var engine = DetectionEngine(rules: [rule], settings: EngineSettings(maxKeysPerRule: 2), tracksChanges: true)
        Self.process(&engine, F.event(at: 0, ip: "5.5.5.1"), line: 1)
        Self.process(&engine, F.event(at: 1, ip: "5.5.5.2"), line: 2)
        _ = engine.takeChanges()
        Self.process(&engine, F.event(at: 2, ip: "5.5.5.3"), line: 3)
        let changes = engine.takeChanges()
        #expect(changes.ended == [ID(ruleID: "Test.Threshold", key: "s5.5.5.1")])
        #expect(changes.changed.map(\.key) == ["s5.5.5.3"])
        #expect(engine.statistics.rules["Test.Threshold"]?.evictions == 1)
    }

    @Test func importedStateIsNotAChangeAndAChangeAfterItIs() throws {
        var first = DetectionEngine(rules: try Self.rules(), tracksChanges: true)
        for i in 0..<6 { Self.process(&first, F.event(at: Double(i) * 60, ip: i % 2 == 0 ? "5.5.5.5" : "6.6.6.6"), line: i) }
        let state = first.exportState()
        var second = DetectionEngine(rules: try Self.rules(), tracksChanges: true)
        #expect(second.importState(state) == 0)
        let none = second.takeChanges()
        #expect(none.changed.isEmpty && none.ended.isEmpty && none.eventTime == state.eventTime)
        Self.process(&second, F.event(at: 400, ip: "6.6.6.6"), line: 7)
        #expect(Set(second.takeChanges().changed.map(\.key)) == ["s6.6.6.6"])
    }

    @Test func anEngineWithoutTrackingKeepsNoChanges() throws {
        var engine = DetectionEngine(rules: try Self.rules())
        Self.process(&engine, F.event(at: 0), line: 1)
        let changes = engine.takeChanges()
        #expect(changes.changed.isEmpty && changes.ended.isEmpty)
        #expect(engine.evaluators.allSatisfy { $0.threshold?.changed == nil && $0.aggregate?.changed == nil })
    }
}
