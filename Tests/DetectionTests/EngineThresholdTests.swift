import AuditEvents
import Enrichment
import Testing
@testable import Detection

/// Threshold windows (Panther's model): opened by the first match, one dedup
/// period long, not sliding; the alert at the threshold-th match.
@Suite struct EngineThresholdTests {
    typealias F = EngineFixtures

    func thresholdRule() throws -> Rule { try F.rule(threshold: 10, dedupMinutes: 30) }

    @Test func nineMatchesRaiseNothingAndTheTenthRaisesOneAlert() throws {
        let rule = try thresholdRule()
        let nine = F.run([rule], F.inputs((0..<9).map { F.event(at: Double($0) * 60) }))
        #expect(nine.alerts.isEmpty)
        #expect(nine.engine.statistics.rules[rule.id]?.matches == 9)

        let ten = F.run([rule], F.inputs((0..<10).map { F.event(at: Double($0) * 60) }), finish: false)
        #expect(ten.alerts.count == 1)
        let alert = try #require(ten.alerts.first)
        #expect(alert.kind == .alert)
        #expect(alert.count == 10)
        #expect(alert.firstSeen == F.t0)
        #expect(alert.lastSeen == EventTime(seconds: F.t0.seconds + 540))
        #expect(alert.id == Alert.id(rule: rule.id, groupKey: GroupKey.text([["5.5.5.5"]]), windowStart: F.t0))
        #expect(alert.title == "403 from [5.5.5.5] by [bob]")
        #expect(alert.dedupKey == "k_5.5.5.5")
        #expect(alert.events == (1...10).map { EventOrigin.file(path: "events.jsonl", line: $0) })
    }

    /// An event time past 2262 saturates at the end of time, where a window ends where it
    /// starts (the period added saturates too): its match is swept, not kept (the sweep looped
    /// forever there; `vigil replay` of such a record hung).
    @Test(.timeLimit(.minutes(1))) func aMatchAtTheEndOfTimeIsSweptWithoutHanging() throws {
        let rule = try thresholdRule()
        var late = F.event(at: 60)
        late.time = EventTime(seconds: 253_402_214_400)  // 9999-01-01T00:00:00Z
        #expect(late.time?.nanos == Int64.max)
        let (alerts, engine) = F.run([rule], F.inputs([F.event(at: 0), late]))
        #expect(alerts.isEmpty)
        #expect(engine.statistics.rules[rule.id]?.matches == 2)
    }

    @Test func aMatchAtTheWindowEndOpensANewWindow() throws {
        let rule = try thresholdRule()
        // Nine in the first minutes, the tenth exactly 30 minutes after the first: outside [start, start+30m).
        let atEnd = (0..<9).map { F.event(at: Double($0)) } + [F.event(at: 1800)]
        #expect(F.run([rule], F.inputs(atEnd)).alerts.isEmpty)
        // One millisecond earlier it is inside.
        let inside = (0..<9).map { F.event(at: Double($0)) } + [F.event(at: 1799.999)]
        #expect(F.run([rule], F.inputs(inside)).alerts.count == 1)
    }

    @Test func theWindowDoesNotSlide() throws {
        let rule = try thresholdRule()
        // 1 at 0m, 5 at 25m, 5 at 35m: a sliding 30-minute window over 25m–55m holds 10;
        // Panther's windows are [0m, 30m) with 6 and [35m, 65m) with 5.
        let events = [F.event(at: 0)] + (0..<5).map { F.event(at: 1500 + Double($0)) }
            + (0..<5).map { F.event(at: 2100 + Double($0)) }
        #expect(F.run([rule], F.inputs(events)).alerts.isEmpty)
    }

    @Test func matchesAfterTheAlertAreCountedIntoOneSummaryOnTheSameID() throws {
        let rule = try thresholdRule()
        let events = (0..<14).map { F.event(at: Double($0) * 60) }
        let (alerts, engine) = F.run([rule], F.inputs(events))
        #expect(alerts.map(\.kind) == [.alert, .summary])
        #expect(alerts[1].id == alerts[0].id)
        #expect(alerts[1].count == 14)
        #expect(alerts[1].lastSeen == EventTime(seconds: F.t0.seconds + 13 * 60))
        #expect(alerts[1].events.count == 10)
        #expect(alerts[1].eventsOmitted == 4)
        #expect(engine.statistics.rules[rule.id]?.summaries == 1)
    }

    @Test func groupKeysCountSeparately() throws {
        let rule = try thresholdRule()
        let events = (0..<10).map { F.event(at: Double($0), ip: $0 % 2 == 0 ? "5.5.5.5" : "6.6.6.6") }
        #expect(F.run([rule], F.inputs(events)).alerts.isEmpty)
    }

    @Test func aLateEarlierMatchWithinTheLatenessMovesAnUnfiredWindow() throws {
        let rule = try thresholdRule()
        // Nine at 10..18 minutes, then (late) one at 0 minutes: the window starts at 0.
        let nine = (10..<19).map { F.event(at: Double($0) * 60) }
        let inOrder = F.run([rule], F.inputs([F.event(at: 0)] + nine)).alerts
        let lateFirst = F.run([rule], F.inputs(nine + [F.event(at: 0)])).alerts
        #expect(inOrder.count == 1)
        #expect(F.orderFree(inOrder) == F.orderFree(lateFirst))
        #expect(lateFirst.first?.firstSeen == F.t0)
    }

    @Test func aMatchLaterThanTheAllowedLatenessIsCountedNotWindowed() throws {
        let rule = try thresholdRule()
        let stateless = try F.rule(id: "Test.Stateless", where: "response.code == 403")
        let settings = EngineSettings(allowedLateness: 3600)
        // Event time reaches 2h; then nine matches at 0m (2h late) would complete a window if windowed.
        let events = (0..<9).map { F.event(at: 7200 + Double($0)) } + [F.event(at: 60)]
        let (alerts, engine) = F.run([rule, stateless], F.inputs(events), settings: settings)
        let stats = engine.statistics
        #expect(stats.lateEvents == 1)
        #expect(stats.rules[rule.id]?.lateMatches == 1)
        #expect(alerts.filter { $0.ruleID == rule.id }.isEmpty)
        // The stateless rule still judged the late event.
        #expect(alerts.filter { $0.ruleID == stateless.id }.count == 10)
    }

    @Test func alertsDoNotDependOnArrivalOrderWithinTheLateness() throws {
        let rule = try thresholdRule()
        // Three keys, matches spread over 3 hours, in bursts (some windows reach 10, some not).
        var events: [AuditEvent] = []
        for (k, ip) in ["5.5.5.5", "6.6.6.6", "7.7.7.7"].enumerated() {
            for burst in 0..<4 {
                let size = [12, 7, 10, 25][(burst + k) % 4]
                for i in 0..<size {
                    events.append(F.event(at: Double(burst * 2700 + i * 97 + k), ip: ip))
                }
            }
        }
        let inputs = F.inputs(events)
        let sorted = F.run([rule], inputs.sorted { $0.event.time! < $1.event.time! }).alerts
        #expect(sorted.filter { $0.kind == .alert }.count >= 6)
        #expect(sorted.contains { $0.kind == .summary })
        // The true windows per key (greedy from the earliest match, as in event order).
        var windowOf: [Int: Int] = [:]  // input line -> window number
        var windowCount = 0
        for ip in ["5.5.5.5", "6.6.6.6", "7.7.7.7"] {
            let mine = inputs.filter { $0.event.sourceIP == ip }.sorted { $0.event.time! < $1.event.time! }
            var start: EventTime?
            for input in mine {
                if start == nil || input.event.time!.seconds >= start!.seconds + 1800 {
                    start = input.event.time!
                    windowCount += 1
                }
                windowOf[input.line] = windowCount
            }
        }
        // Any order in which each window's earliest match arrives before the window's other
        // matches yields the same alerts (see the pinned-window exception below).
        for k in 2..<22 {
            var shuffled = inputs.permuted(k * 7)
            for w in 1...windowCount {
                let positions = shuffled.indices.filter { windowOf[shuffled[$0].line] == w }
                guard let firstSlot = positions.first,
                      let earliest = positions.min(by: { shuffled[$0].event.time! < shuffled[$1].event.time! })
                else { continue }
                shuffled.swapAt(firstSlot, earliest)
            }
            let out = F.run([rule], shuffled).alerts
            #expect(F.orderFree(out) == F.orderFree(sorted))
        }
    }

    /// The documented exception: an alert already emitted is not taken back. A window fired at
    /// its tenth match; a match earlier than its start arrives late (within the lateness).
    /// In event order that match would have opened the window; here it opens a window that
    /// ends where the fired one starts.
    @Test func aFiredWindowStaysWhereItWasWhenAnEarlierMatchArrivesLate() throws {
        let rule = try thresholdRule()
        let ten = (20..<30).map { F.event(at: Double($0) * 60) }
        let early = F.event(at: 0)
        let inOrder = F.run([rule], F.inputs([early] + ten)).alerts
        let late = F.run([rule], F.inputs(ten + [early])).alerts
        // In order: one window from 0m, alert at the tenth match (28m), summary with 11.
        #expect(inOrder.map(\.kind) == [.alert, .summary])
        #expect(inOrder[0].firstSeen == F.t0)
        #expect(inOrder[1].count == 11)
        // Late: the alert fired from 20m and stands; the early match sits alone in [0m, 20m).
        #expect(late.map(\.kind) == [.alert])
        #expect(late[0].firstSeen == EventTime(seconds: F.t0.seconds + 1200))
        #expect(late[0].id != inOrder[0].id)
    }
}
