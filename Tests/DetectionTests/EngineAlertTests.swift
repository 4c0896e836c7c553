import AuditEvents
import Enrichment
import Testing
@testable import Detection

/// Alert JSON, ids, stateless rules, Rule.matches and the key cap.
@Suite struct EngineAlertTests {
    typealias F = EngineFixtures

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(String(repeating: "a", count: 1000)).hasPrefix("41edece42d63e8d9bf515a9ba6932e1c"))
        #expect(SHA256.hex("abc", bytes: 16) == "ba7816bf8f01cfea414140de5dae2223")
        #expect(SHA256.hex("abc", bytes: 0) == "")
    }

    @Test func alertIDsAreStableAcrossRuns() throws {
        let rule = try F.rule(dedupMinutes: 30)
        let a = F.run([rule], F.inputs([F.event(at: 5)])).alerts
        let b = F.run([rule], F.inputs([F.event(at: 5)])).alerts
        #expect(a.map(\.id) == b.map(\.id))
        #expect(a.first?.id.count == 32)
        let other = F.run([rule], F.inputs([F.event(at: 6)])).alerts
        #expect(other.first?.id != a.first?.id)
        // The documented formula (an id changed by a refactor would break replays' and
        // restarts' de-duplication downstream): the digest's first 32 hex digits.
        let start = EventTime(seconds: 1_700_000_005, nanoseconds: 120)
        #expect(Alert.id(rule: "R.1", groupKey: "1.2.3.4", windowStart: start)
            == String(SHA256.hex("R.1\u{0}1.2.3.4\u{0}1700000005.120").prefix(32)))
        #expect(Alert.id(rule: "R.1", groupKey: "1.2.3.4", windowStart: start) == "bd4f63f0735a2c7ee9bba67130207c4f")
    }

    @Test func theJSONLineCarriesEveryPartInAFixedOrder() throws {
        let rule = try F.rule(dedupMinutes: 30)
        let geo = GeoLocation(city: "Paris", country: "France", countryCode: "FR", latitude: 48.8, longitude: 2.3)
        let enrichment = EventEnrichment(geo: geo, torExitIPs: ["5.5.5.5"], geoDatabaseType: "GeoLite2-City",
                                         geoBuildEpoch: 1_700_000_000, torListTime: 1_743_800_000)
        var engine = DetectionEngine(rules: [rule])
        let alerts = engine.process(F.event(at: 0), enrichment: enrichment,
                                    origin: .kafka(topic: "eks-audit", partition: 3, offset: 42))
        let json = try #require(alerts.first?.json)
        let keys = ["alert_id", "kind", "rule_id", "title", "severity", "mitre", "runbook", "dedup_key",
                    "window_start", "first_seen", "last_seen", "count", "group_key", "source", "output",
                    "statistics", "events", "events_omitted", "data_versions"]
        let positions = keys.map { json.range(of: "\"\($0)\":")?.lowerBound }
        #expect(!positions.contains(nil))
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(json.contains(#""first_seen":"2025-04-05T06:00:00Z""#))
        #expect(json.contains(#""source":{"ip":"5.5.5.5","tor_exit":true,"geo":{"country_name":"France","country_iso_code":"FR","city_name":"Paris","location":{"lat":48.8,"lon":2.3}}}"#))
        #expect(json.contains(#""events":[{"topic":"eks-audit","partition":3,"offset":42}]"#))
        #expect(json.contains(#""data_versions":{"geoip_database":"GeoLite2-City","geoip_build_epoch":1700000000,"tor_list_time":"2025-04-04T20:53:20Z"}"#))
        #expect(json.contains(#""group_key":{"source.ip":"5.5.5.5"}"#))
        #expect(json.contains(#""output":{"source.ip":"5.5.5.5","user.name":"bob"}"#))
    }

    @Test func aStatelessRuleAlertsOnEveryMatch() throws {
        let rule = try F.rule(id: "Test.Stateless")
        let (alerts, _) = F.run([rule], F.inputs([F.event(at: 0), F.event(at: 0), F.event(at: 1, code: 200)]))
        #expect(alerts.count == 2)
        #expect(Set(alerts.map(\.id)).count == 2)  // same time, different origins
    }

    @Test func ruleMatchesUsesTheEnrichment() throws {
        let rule = try F.rule(where: "isTorExit(source.ip) and Country == \"France\"")
        let event = F.event(at: 0)
        #expect(!rule.matches(event, enrichment: .none))
        let enrichment = EventEnrichment(geo: GeoLocation(country: "France"), torExitIPs: ["5.5.5.5"])
        #expect(rule.matches(event, enrichment: enrichment))
        let process = AuditEvent(logType: .ecsProcess)
        #expect(!rule.matches(process, enrichment: enrichment))  // not one of the rule's log types
    }

    @Test func eventsWithoutATimeTakeTheEngineTime() throws {
        let rule = try F.rule(dedupMinutes: 30)
        let (alerts, engine) = F.run([rule], F.inputs([F.event(at: 100), F.event(at: 0, withTime: false)]))
        #expect(engine.statistics.untimedEvents == 1)
        #expect(alerts.last?.lastSeen == EventTime(seconds: F.t0.seconds + 100))
    }

    @Test func theKeyCapEvictsTheOldestKeysAndCounts() throws {
        let rule = try F.rule(dedupMinutes: 30)
        let settings = EngineSettings(maxKeysPerRule: 10)
        // Key 0 alerts and holds a suppressed match; then 20 more keys arrive.
        var events = [F.event(at: 0, ip: "9.9.9.0"), F.event(at: 1, ip: "9.9.9.0")]
        events += (1...20).map { F.event(at: 10 + Double($0), ip: "9.9.9.\($0)") }
        let (alerts, engine) = F.run([rule], F.inputs(events), settings: settings, finish: false)
        let stats = try #require(engine.statistics.rules[rule.id])
        #expect(stats.keys <= 10)
        #expect(stats.evictions >= 11)
        // The evicted key's summary went out rather than being lost.
        #expect(alerts.contains { $0.kind == .summary && $0.groupKey.first?.values == ["9.9.9.0"] && $0.count == 2 })
    }
}
