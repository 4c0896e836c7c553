import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// The event-time clock and the wall clock: an event stamped in the future is evaluated at its
/// own time, but moves the clock no further than the wall clock plus `maxClockLead`, so the
/// events after it are not made late (and stateful rules are not silenced) until real time
/// catches up with the bad timestamp.
@Suite struct EngineClockLimitTests {
    typealias F = EngineFixtures

    /// Dedup by source IP, like the Tor rule: each address's first match alerts.
    func dedupByIP() throws -> Rule { try F.rule(id: "Test.Dedup.IP", dedupMinutes: 60, groupBy: ["source.ip"]) }

    static let origin = EventOrigin.kafka(topic: "audit", partition: 0, offset: 1)
    /// The wall clock of these runs: `t0`.
    static let wall = Date(timeIntervalSince1970: Double(F.t0.seconds))

    /// One event stamped three hours ahead (a host with a wrong clock), then one match per
    /// address at the wall clock's time: the number of alerts of those matches.
    func alertsAfterAFutureEvent(lead: Int64?) throws -> (alerts: Int, engine: DetectionEngine) {
        var engine = DetectionEngine(rules: [try dedupByIP()],
                                     settings: EngineSettings(allowedLateness: 600, maxClockLead: lead))
        engine.observeWallClock(Self.wall)
        _ = engine.process(F.event(at: 3 * 3600, ip: "9.9.9.9", code: 200), enrichment: .none, origin: Self.origin)
        var alerts = 0
        for i in 0..<5 {
            alerts += engine.process(F.event(at: Double(i), ip: "5.5.5.\(i)"), enrichment: .none, origin: Self.origin)
                .filter { $0.kind == .alert }.count
        }
        return (alerts, engine)
    }

    @Test func anEventFromTheFutureDoesNotMakeTheEventsAfterItLate() throws {
        let (alerts, engine) = try alertsAfterAFutureEvent(lead: 300)
        #expect(alerts == 5)
        #expect(engine.statistics.futureEvents == 1)
        #expect(engine.statistics.lateEvents == 0)
        #expect(engine.eventTime == EventTime(seconds: F.t0.seconds + 300))
    }

    /// What the limit prevents: without it the clock jumps three hours and every match after it
    /// is later than the allowed lateness (counted, evaluated by stateless rules only).
    @Test func withoutALimitTheClockFollowsTheFutureEvent() throws {
        let (alerts, engine) = try alertsAfterAFutureEvent(lead: nil)
        #expect(alerts == 0)
        #expect(engine.statistics.lateEvents == 5)
        #expect(engine.statistics.futureEvents == 0)
        #expect(engine.eventTime == EventTime(seconds: F.t0.seconds + 3 * 3600))
    }

    /// The future event itself still counts, at its own time: its address's first match alerts
    /// with the time it carries.
    @Test func theFutureEventIsEvaluatedAtItsOwnTime() throws {
        var engine = DetectionEngine(rules: [try dedupByIP()],
                                     settings: EngineSettings(allowedLateness: 600, maxClockLead: 0))
        engine.observeWallClock(Self.wall)
        let alerts = engine.process(F.event(at: 7200, ip: "9.9.9.9"), enrichment: .none, origin: Self.origin)
        #expect(alerts.map(\.kind) == [.alert])
        #expect(alerts.first?.firstSeen == EventTime(seconds: F.t0.seconds + 7200))
        #expect(engine.eventTime == F.t0)
    }

    /// Idle advance stops at the limit too; a later wall clock lets the clock move on, and the
    /// dedup period's summary goes out once the horizon passes its end.
    @Test func advancingStopsAtTheLimitAndMovesOnWithTheWallClock() throws {
        var engine = DetectionEngine(rules: [try dedupByIP()],
                                     settings: EngineSettings(allowedLateness: 600, maxClockLead: 60))
        engine.observeWallClock(Self.wall)
        _ = engine.process(F.event(at: 0), enrichment: .none, origin: Self.origin)
        _ = engine.process(F.event(at: 10), enrichment: .none, origin: Self.origin)
        #expect(engine.advance(to: Date(timeIntervalSince1970: Double(F.t0.seconds + 5 * 3600))).isEmpty)
        #expect(engine.eventTime == EventTime(seconds: F.t0.seconds + 60))
        engine.observeWallClock(Self.wall.addingTimeInterval(2 * 3600))
        let out = engine.advance(to: Date(timeIntervalSince1970: Double(F.t0.seconds + 5 * 3600)))
        #expect(out.map(\.kind) == [.summary])
        #expect(engine.eventTime == EventTime(seconds: F.t0.seconds + 2 * 3600 + 60))
    }

    /// Without a wall clock observed (replays of old logs, `vigil rules test`) nothing is limited,
    /// whatever the setting.
    @Test func withoutAWallClockNothingIsLimited() throws {
        var engine = DetectionEngine(rules: [try dedupByIP()],
                                     settings: EngineSettings(allowedLateness: 600, maxClockLead: 0))
        _ = engine.process(F.event(at: 3 * 3600, ip: "9.9.9.9"), enrichment: .none, origin: Self.origin)
        #expect(engine.eventTime == EventTime(seconds: F.t0.seconds + 3 * 3600))
        #expect(engine.statistics.futureEvents == 0)
        #expect(engine.wallClockLimit == nil)
    }
}
