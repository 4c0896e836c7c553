import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// Aggregate (Splunk `stats ... by`): clock-aligned tumbling windows, SPL's
/// `by` and `values()`, `having` when the window closes.
@Suite struct EngineAggregateTests {
    typealias F = EngineFixtures

    func scanningRule(groupBy: [String] = ["source.ip", "Country", "City"]) throws -> Rule {
        let aggregate = Rule.Aggregate(
            window: RuleDuration(seconds: 3600), groupBy: groupBy.compactMap(FieldReference.init),
            stats: [Rule.Statistic(name: "count", function: .count),
                    Rule.Statistic(name: "user_agent", function: .values(FieldReference("user_agent")!)),
                    Rule.Statistic(name: "response_code", function: .values(FieldReference("response.code")!)),
                    Rule.Statistic(name: "users", function: .distinctCount(FieldReference("user.name")!)),
                    Rule.Statistic(name: "first_agent", function: .min(FieldReference("user_agent")!))],
            having: try Condition("count > 5"))
        return try F.rule(id: "Test.Scanning", where: "user.groups == \"system:unauthenticated\"",
                          aggregate: aggregate, output: ["source.ip", "Country", "City"],
                          title: "scan from [{source.ip}] ({Country|?}, {City|?})")
    }

    static let berlin = GeoLocation(city: "Berlin", country: "Germany", countryCode: "DE")
    static let located = EventEnrichment(geo: berlin, geoDatabaseType: "GeoLite2-City", geoBuildEpoch: 1_700_000_000)

    func scans(_ times: [Double], code: Int = 403, agent: String = "curl/8") -> [EngineFixtures.Input] {
        times.enumerated().map { i, t in
            EngineFixtures.Input(event: F.event(at: t, code: code, user: "system:anonymous",
                                                groups: ["system:unauthenticated"], agent: agent),
                                 line: i + 1, enrichment: Self.located)
        }
    }

    /// Event times before 1677 clamp to the start of time; their window starts there too
    /// (its clock-aligned start lay before it, and working it out trapped: found by
    /// ops/fuzz/run.sh with a CloudWatch entry dated in year 1000). The times past 2262 clamp
    /// to the end, whose window's end saturates.
    @Test func scansAtEitherEndOfTimeAreCountedWithoutTrapping() throws {
        let rule = try scanningRule()
        for seconds: Int64 in [-30_610_224_000, -9_223_372_036, 253_402_214_400] {  // 1000-01-01, 1677, 9999
            let inputs = scans([0, 1, 2, 3, 4, 5]).map { input in
                var input = input
                input.event.time = EventTime(seconds: seconds)
                return input
            }
            let (alerts, engine) = F.run([rule], inputs)
            #expect(engine.statistics.rules[rule.id]?.matches == 6)
            #expect(alerts.count == 1, "at \(seconds) s")
            #expect(alerts.first?.count == 6)
        }
    }

    @Test func sixInOneHourAlertFiveDoNot() throws {
        let rule = try scanningRule()
        let six = F.run([rule], scans([0, 100, 200, 300, 400, 3599])).alerts
        #expect(six.count == 1)
        let alert = try #require(six.first)
        #expect(alert.count == 6)
        #expect(alert.windowStart == F.t0)
        #expect(alert.title == "scan from [5.5.5.5] (Germany, Berlin)")
        #expect(alert.groupKey.map(\.name) == ["source.ip", "Country", "City"])
        #expect(alert.source?.city == "Berlin")
        #expect(alert.dataVersions.geoBuildEpoch == 1_700_000_000)
        #expect(F.run([rule], scans([0, 100, 200, 300, 400])).alerts.isEmpty)
    }

    @Test func windowsAreAlignedToTheClock() throws {
        let rule = try scanningRule()
        // 3 before 07:00 and 3 after: two windows of 3, no alert; 6 within 06:30–07:30 do not matter.
        let split = scans([3000, 3300, 3599, 3600, 3900, 4200])
        #expect(F.run([rule], split).alerts.isEmpty)
        let next = F.run([rule], scans([3600, 3700, 3800, 3900, 4000, 7199])).alerts
        #expect(next.first?.windowStart == EventTime(seconds: F.t0.seconds + 3600))
    }

    @Test func eventsMissingAGroupByFieldDropOut() throws {
        let rule = try scanningRule()
        var inputs = scans([0, 1, 2, 3, 4, 5])
        for i in inputs.indices { inputs[i].enrichment = .none }  // no Country, no City
        let (alerts, engine) = F.run([rule], inputs)
        #expect(alerts.isEmpty)
        #expect(engine.statistics.rules[rule.id]?.missingGroupBy == 6)
        #expect(engine.statistics.rules[rule.id]?.matches == 6)
    }

    @Test func valuesAreDistinctAndSortedAsSPLSortsThem() throws {
        let rule = try scanningRule()
        var inputs: [EngineFixtures.Input] = []
        for (i, (code, agent)) in [(403, "curl/8"), (99, "Zgrab"), (1000, "curl/8"), (403, "alpha"),
                                   (10, "10-bot"), (99, "Zgrab")].enumerated() {
            inputs.append(.init(event: F.event(at: Double(i), code: code, user: "u\(i % 2)",
                                               groups: ["system:unauthenticated"], agent: agent),
                                line: i + 1, enrichment: Self.located))
        }
        let alert = try #require(F.run([rule], inputs).alerts.first)
        let stats = Dictionary(uniqueKeysWithValues: alert.statistics.map { ($0.name, $0.values) })
        // Lexicographic by bytes: "10" < "1000" < "403" < "99"; digits < upper case < lower case.
        #expect(stats["response_code"] == ["10", "1000", "403", "99"])
        #expect(stats["user_agent"] == ["10-bot", "Zgrab", "alpha", "curl/8"])
        #expect(stats["users"] == [2])
        #expect(stats["first_agent"] == ["10-bot"])
        #expect(alert.json.contains(#""response_code":["10","1000","403","99"]"#))
    }

    @Test func splMinAndMaxPutNumbersBeforeStrings() {
        #expect(SPLOrder.less(.number(9), .number(10)))
        #expect(SPLOrder.less(.string("9"), .string("10")))  // both numeric
        #expect(SPLOrder.less(.number(1000), .string("abc")))
        #expect(SPLOrder.less(.string("B"), .string("a")))
    }

    @Test func theAlertWaitsForTheHorizonToPassTheWindowEnd() throws {
        let rule = try scanningRule()
        var engine = DetectionEngine(rules: [rule], settings: EngineSettings(allowedLateness: 600))
        for input in scans([0, 1, 2, 3, 4, 5]) {
            #expect(engine.process(input.event, enrichment: input.enrichment, origin: .file(path: "f", line: 1)).isEmpty)
        }
        #expect(engine.advance(to: Date(timeIntervalSince1970: Double(F.t0.seconds + 4199))).isEmpty)
        #expect(engine.advance(to: Date(timeIntervalSince1970: Double(F.t0.seconds + 4200))).count == 1)
    }

    @Test func aggregateAlertsDoNotDependOnArrivalOrder() throws {
        let rule = try scanningRule()
        var inputs = scans((0..<40).map { Double($0) * 400 })
        for i in inputs.indices where i % 3 == 0 {
            inputs[i].event = F.event(at: Double(i) * 400, ip: "6.6.6.6", user: "x\(i)",
                                      groups: ["system:unauthenticated"], agent: "agent-\(i % 4)")
        }
        let inOrder = F.run([rule], inputs).alerts
        #expect(!inOrder.isEmpty)
        for k in 2..<12 {
            let out = F.run([rule], inputs.permuted(k * 3)).alerts
            #expect(out.map(\.json) == inOrder.map(\.json))
        }
    }
}
