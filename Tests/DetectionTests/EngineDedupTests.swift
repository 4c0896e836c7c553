import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// Dedup (a threshold of one): the first match alerts; later matches in the
/// period are counted into one summary on the same alert id when it ends.
@Suite struct EngineDedupTests {
    typealias F = EngineFixtures

    func dedupRule() throws -> Rule { try F.rule(id: "Test.Dedup", dedupMinutes: 60) }

    @Test func theFirstMatchAlertsAndTheRestOfThePeriodIsOneSummary() throws {
        let rule = try dedupRule()
        let events = [0.0, 600, 1200, 3599].map { F.event(at: $0) } + [F.event(at: 3600)]
        let (alerts, _) = F.run([rule], F.inputs(events))
        // 0s alerts; 600..3599 are suppressed; 3600 is after the period: a new alert.
        #expect(alerts.map(\.kind) == [.alert, .alert, .summary])
        let first = alerts[0], second = alerts[1], summary = alerts[2]
        #expect(first.count == 1)
        #expect(second.firstSeen == EventTime(seconds: F.t0.seconds + 3600))
        #expect(second.id != first.id)
        #expect(summary.id == first.id)
        #expect(summary.count == 4)
        #expect(summary.firstSeen == F.t0)
        #expect(summary.lastSeen == EventTime(seconds: F.t0.seconds + 3599))
    }

    @Test func aPeriodWithoutSuppressedMatchesEndsWithoutSummary() throws {
        let rule = try dedupRule()
        let (alerts, engine) = F.run([rule], F.inputs([F.event(at: 0)]))
        #expect(alerts.map(\.kind) == [.alert])
        #expect(engine.statistics.rules[rule.id]?.keys == 0)
    }

    @Test func theSummaryWaitsUntilTheHorizonPassesThePeriodEnd() throws {
        let rule = try dedupRule()
        var engine = DetectionEngine(rules: [rule], settings: EngineSettings(allowedLateness: 1800))
        let origin = EventOrigin.kafka(topic: "audit", partition: 0, offset: 1)
        #expect(engine.process(F.event(at: 0), enrichment: .none, origin: origin).count == 1)
        #expect(engine.process(F.event(at: 10), enrichment: .none, origin: origin).isEmpty)
        // Period ends at 60m; the horizon is event time minus 30m.
        #expect(engine.advance(to: Date(timeIntervalSince1970: Double(F.t0.seconds + 5399))).isEmpty)
        let out = engine.advance(to: Date(timeIntervalSince1970: Double(F.t0.seconds + 5400)))
        #expect(out.map(\.kind) == [.summary])
        #expect(out.first?.count == 2)
        #expect(out.first?.events == [origin, origin])
    }

    @Test func summariesDoNotDependOnArrivalOrder() throws {
        let rule = try dedupRule()
        let events = (0..<30).map { F.event(at: Double($0) * 200, ip: $0 % 3 == 0 ? "5.5.5.5" : "6.6.6.6") }
        let inputs = F.inputs(events)
        let inOrder = F.run([rule], inputs).alerts
        // Any order in which each period's first match arrives before the rest of its period.
        for k in 2..<12 {
            var shuffled = inputs.permuted(k * 5)
            let firsts = inOrder.filter { $0.kind == .alert }.map(\.events[0])
            shuffled.sort { a, b in
                let fa = firsts.contains(.file(path: "events.jsonl", line: a.line))
                let fb = firsts.contains(.file(path: "events.jsonl", line: b.line))
                return fa && !fb
            }
            let out = F.run([rule], shuffled).alerts
            #expect(F.orderFree(out) == F.orderFree(inOrder))
        }
    }

    @Test func aLateEarlierMatchAfterTheAlertOpensItsOwnShortenedPeriod() throws {
        // The documented exception for dedup: the alert at 30m stands; a match at 10m that
        // arrives after it gets its own alert, in a period ending at 30m.
        let rule = try dedupRule()
        let (alerts, _) = F.run([rule], F.inputs([F.event(at: 1800), F.event(at: 600)]))
        #expect(alerts.map(\.kind) == [.alert, .alert])
        let (inOrder, _) = F.run([rule], F.inputs([F.event(at: 600), F.event(at: 1800)]))
        #expect(inOrder.map(\.kind) == [.alert, .summary])
    }
}
