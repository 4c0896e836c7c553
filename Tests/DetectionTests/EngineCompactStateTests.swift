import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// The engine keeps fired alerts and aggregate groups compactly (a fired
/// window's alert rendered again from shared values, group-by values read
/// back from the key): what comes out is what was raised, whatever the key holds.
@Suite struct EngineCompactStateTests {
    typealias F = EngineFixtures

    static let berlin = GeoLocation(city: "Berlin", country: "Germany", countryCode: "DE", latitude: 52.5,
                                    longitude: 13.4)

    /// Users whose names hold the key's own separators (U+001F, U+001E), an empty one, a plain one;
    /// as JSON string escapes (the fixture puts them into the record's JSON).
    static let users = ["bob", #"a\u001fb"#, #"c\u001ed"#, ""]

    func inputs() -> [F.Input] {
        var out: [F.Input] = []
        for (i, user) in Self.users.enumerated() {
            for t in [0.0, 60, 120] {
                let enrichment = EventEnrichment(geo: Self.berlin, torExitIPs: i % 2 == 0 ? ["5.5.5.5"] : [],
                                                 geoDatabaseType: "GeoLite2-City", geoBuildEpoch: 1_700_000_000,
                                                 torListTime: F.t0.seconds)
                out.append(F.Input(event: F.event(at: t + Double(i), user: user, agent: "agent-\(i % 2)"),
                                   line: out.count + 1, enrichment: enrichment))
            }
        }
        return out
    }

    /// An engine of `rule` that has processed ``inputs()``.
    func fed(_ rule: Rule) -> DetectionEngine {
        var engine = DetectionEngine(rules: [rule])
        for input in inputs() {
            _ = engine.process(input.event, enrichment: input.enrichment,
                               origin: .file(path: "events.jsonl", line: input.line))
        }
        return engine
    }

    @Test func aSummaryRepeatsItsAlertWhateverTheKeyHolds() throws {
        let rule = try F.rule(id: "Test.Dedup.User", dedupMinutes: 60, groupBy: ["user.name", "source.ip"],
                              output: ["source.ip", "user.name", "user_agent", "verb"],
                              title: "by [{user.name}] from [{source.ip}] with {user_agent}")
        let alerts = F.run([rule], inputs()).alerts
        let raised = alerts.filter { $0.kind == .alert }
        let summaries = alerts.filter { $0.kind == .summary }
        #expect(raised.count == Self.users.count)
        #expect(summaries.count == Self.users.count)
        #expect(Set(raised.map(\.title)).count == Self.users.count)
        for alert in raised {
            let summary = try #require(summaries.first { $0.id == alert.id })
            var expected = alert
            expected.kind = .summary
            expected.count = 3
            expected.lastSeen = summary.lastSeen
            expected.events = summary.events
            expected.eventsOmitted = summary.eventsOmitted
            #expect(summary == expected)
            #expect(summary.events.count == 3)
        }
    }

    @Test func exportedFiredWindowsCarryTheAlertAsRaised() throws {
        let rule = try F.rule(id: "Test.Dedup.User", dedupMinutes: 60, groupBy: ["user.name"],
                              output: ["source.ip", "user.name", "user_agent"])
        var engine = DetectionEngine(rules: [rule])
        var raised: [Alert] = []
        for input in inputs() {
            raised += engine.process(input.event, enrichment: input.enrichment,
                                     origin: .file(path: "events.jsonl", line: input.line))
        }
        let state = engine.exportState()
        let exported = state.entries.compactMap { entry -> Alert? in
            guard case .threshold(let key) = entry.state else { return nil }
            return key.fired.first?.alert
        }
        #expect(exported.sorted { $0.id < $1.id } == raised.sorted { $0.id < $1.id })
        // Through JSON (the changelog) into a fresh engine: the same summaries.
        let decoded = try JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(state))
        var restored = DetectionEngine(rules: [rule])
        #expect(restored.importState(decoded) == 0)
        #expect(restored.exportState() == state)
        #expect(restored.finish().sorted { $0.id < $1.id } == engine.finish().sorted { $0.id < $1.id })
    }

    /// Counts restored from a changelog (another version, a damaged record) are checked: an
    /// entry counting near `Int.max` is skipped, not trapped on at its next match.
    @Test func implausibleRestoredCountsAreSkipped() throws {
        let dedup = try F.rule(id: "Test.Dedup.User", dedupMinutes: 60, groupBy: ["user.name"],
                               output: ["source.ip", "user.name", "user_agent"])
        let aggregate = try F.rule(id: "Test.Aggregate.User", aggregate: Rule.Aggregate(
            window: RuleDuration(seconds: 3600), groupBy: ["user.name"].compactMap(FieldReference.init),
            stats: [Rule.Statistic(name: "agents", function: .values(FieldReference("user_agent")!))],
            having: try Condition("count > 2")), output: ["user.name"])
        let engine = fed(dedup)
        let groups = fed(aggregate)
        // One implausible count per entry, in each place a count is kept.
        var damaged = engine.exportState()
        var changed = 0
        for k in damaged.entries.indices {
            guard case .threshold(var key) = damaged.entries[k].state, !key.fired.isEmpty else { continue }
            var fired = key.fired
            fired[0].count = changed % 2 == 0 ? Int.max : -1
            key.fired = fired
            damaged.entries[k].state = .threshold(key)
            changed += 1
        }
        for (k, entry) in groups.exportState().entries.enumerated() {
            guard case .aggregate(let start, var group) = entry.state else { continue }
            if k % 2 == 0 { group.count = Int.max } else { group.statistics = [.distinct(["a"], dropped: Int.max)] }
            damaged.entries.append(RuleStateEntry(ruleID: entry.ruleID, key: entry.key,
                                                  state: .aggregate(windowStart: start, group: group)))
            changed += 1
        }
        #expect(changed >= 4)
        var restored = DetectionEngine(rules: [dedup, aggregate])
        #expect(restored.importState(damaged) == changed)
        for input in inputs() {
            _ = restored.process(input.event, enrichment: input.enrichment, origin: .file(path: "events.jsonl", line: input.line))
        }
        _ = restored.finish()
        #expect(RuleStateEntry(ruleID: "r", key: "k", state: .threshold(ThresholdKeyState())).hasPlausibleCounts)
    }

    @Test func aggregateGroupsKeepTheirGroupByValuesWhateverTheyHold() throws {
        let aggregate = Rule.Aggregate(
            window: RuleDuration(seconds: 3600), groupBy: ["user.name", "Country"].compactMap(FieldReference.init),
            stats: [Rule.Statistic(name: "count", function: .count),
                    Rule.Statistic(name: "agents", function: .values(FieldReference("user_agent")!))],
            having: try Condition("count > 2"))
        let rule = try F.rule(id: "Test.Aggregate.User", aggregate: aggregate, output: ["user.name"],
                              title: "{user.name} in {Country}")
        var engine = fed(rule)
        let groups = engine.exportState().entries.compactMap { entry -> [FieldValue]? in
            guard case .aggregate(_, let group) = entry.state else { return nil }
            return group.groupValues
        }
        let names = ["bob", "a\u{1F}b", "c\u{1E}d", ""]
        #expect(Set(groups) == Set(names.map { [FieldValue.string($0), "Germany"] }))
        let alerts = engine.finish()
        #expect(Set(alerts.map(\.title)) == Set(names.map { "\($0) in Germany" }))
        #expect(Set(alerts.map { $0.groupKey.map(\.values) }) == Set(names.map { [[FieldValue.string($0)], ["Germany"]] }))
        #expect(alerts.allSatisfy { $0.source?.city == "Berlin" && $0.statistics.first?.values == [3] })
        // No group-by value gives the source's address: the group keeps it.
        #expect(alerts.allSatisfy { $0.source?.ip == "5.5.5.5" })
    }

    /// A group whose key gives the source's address (grouped by source.ip) keeps it
    /// only there: the alert, the exported group and a restored engine still carry it.
    @Test func aGroupsSourceAddressComesBackFromItsKey() throws {
        let aggregate = Rule.Aggregate(
            window: RuleDuration(seconds: 3600), groupBy: ["source.ip", "Country"].compactMap(FieldReference.init),
            stats: [Rule.Statistic(name: "count", function: .count)], having: try Condition("count > 2"))
        let rule = try F.rule(id: "Test.Aggregate.IP", aggregate: aggregate, output: ["source.ip"],
                              title: "{source.ip} in {Country}")
        var engine = fed(rule)
        let state = engine.exportState()
        let sources = state.entries.compactMap { entry -> Alert.Source? in
            guard case .aggregate(_, let group) = entry.state else { return nil }
            return group.source
        }
        #expect(sources.map(\.ip) == ["5.5.5.5"])
        let decoded = try JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(state))
        var restored = DetectionEngine(rules: [rule])
        #expect(restored.importState(decoded) == 0)
        #expect(restored.exportState() == state)
        let alerts = engine.finish()
        #expect(alerts.map { $0.source?.ip } == ["5.5.5.5"])
        #expect(restored.finish() == alerts)
    }

    /// Two keys whose alert contents are equal but for a coordinate of 0.0 and one of -0.0
    /// (equal as numbers, rendered apart): the second keeps what differs, and both come
    /// back as raised, to the JSON text — in either order.
    @Test func aCoordinateOfMinusZeroIsNotTheTemplatesZero() throws {
        let rule = try F.rule(id: "Test.Dedup.Zero", dedupMinutes: 60, groupBy: ["source.ip"])
        for latitudes in [[0.0, -0.0], [-0.0, 0.0]] {
            var engine = DetectionEngine(rules: [rule])
            var raised: [Alert] = []
            for (i, latitude) in latitudes.enumerated() {
                let geo = GeoLocation(city: "Null Island", country: "None", latitude: latitude, longitude: 0)
                raised += engine.process(F.event(at: Double(i), ip: "203.0.113.\(i + 1)"),
                                         enrichment: EventEnrichment(geo: geo),
                                         origin: .file(path: "events.jsonl", line: i + 1))
            }
            #expect(raised.count == 2)
            let exported = engine.exportState().entries.compactMap { entry -> Alert? in
                guard case .threshold(let key) = entry.state else { return nil }
                return key.fired.first?.alert
            }
            #expect(exported.map(\.json).sorted() == raised.map(\.json).sorted(), "\(latitudes)")
            #expect(Set(raised.map(\.json)).count == 2)
        }
    }

    /// Keys (one per source address) whose alerts read their own user name, groups,
    /// response code and location: most keep only what differs from an interned
    /// content (a ``ContentDiff`` in the store's ``DiffArena``); every alert, summary and exported window is the one raised.
    @Test func firedKeysWithContentOfTheirOwnGiveBackTheirAlerts() throws {
        let long = String(repeating: "team-x:", count: 60)
        let users = ["system:serviceaccount:team-1:deployer", "system:serviceaccount:team-22:deployer",
                     "system:serviceaccount:team-1:deployerx", "", "zoë-€-𝄞", "zoe-€-𝄞", "aXa", "aa", long,
                     long + "y", "system:serviceaccount:team-1:deployer", "arn:aws:iam::123456789012:user/probe"]
        func location(_ i: Int) -> GeoLocation? {
            switch i % 5 {
            case 0: return Self.berlin
            case 1: return GeoLocation(city: "Berlin \(i)", country: "Germany", countryCode: "DE", latitude: 52.5,
                                       longitude: 13.4)
            case 2: return GeoLocation(city: "Berlín", country: "Deutschland", region: "BE", latitude: -0.0,
                                       longitude: 0.0)
            case 3: return GeoLocation(country: "Germany", countryCode: "DE")
            default: return nil
            }
        }
        var inputs: [F.Input] = []
        for (i, user) in users.enumerated() {
            let ip = "203.0.113.\(i + 1)"
            let enrichment = EventEnrichment(geo: location(i), torExitIPs: [ip], geoDatabaseType: "GeoLite2-City",
                                             geoBuildEpoch: 1_700_000_000, torListTime: F.t0.seconds)
            let groups = i % 3 == 0 ? ["system:authenticated"] : i % 3 == 1 ? [] : ["a", "b\(i)"]
            for t in [0.0, 60] {
                inputs.append(F.Input(event: F.event(at: t + Double(i), ip: ip, code: [403, 404, 401][i % 3],
                                                     user: user, groups: groups, agent: "kubectl/v1.\(i % 2)"),
                                      line: inputs.count + 1, enrichment: enrichment))
            }
        }
        let rule = try F.rule(id: "Test.Dedup.Own", where: "response.code >= 400", dedupMinutes: 60,
                              groupBy: ["source.ip"],
                              output: ["source.ip", "user.name", "user.groups", "user_agent", "verb", "response.code"],
                              title: "by [{user.name}] from [{source.ip}] with {user_agent}")
        var engine = DetectionEngine(rules: [rule])
        var raised: [Alert] = []
        for input in inputs {
            raised += engine.process(input.event, enrichment: input.enrichment,
                                     origin: .file(path: "events.jsonl", line: input.line))
        }
        #expect(raised.count == users.count)
        #expect(Set(raised.map(\.title)).count == users.count)
        #expect(raised.map { $0.source?.city } == users.indices.map { location($0)?.city })
        // Most keys keep a diff, not a content of their own.
        let kept = engine.evaluators[0].threshold?.keys.slots.compactMap { $0.state?.windows.first } ?? []
        let diffs = kept.filter { if case .compact? = $0.raised { $0.diff != 0 } else { false } }
        #expect(kept.count == users.count)
        #expect(diffs.count >= users.count / 2)
        let state = engine.exportState()
        let exported = state.entries.compactMap { entry -> Alert? in
            guard case .threshold(let key) = entry.state else { return nil }
            return key.fired.first?.alert
        }
        #expect(exported.sorted { $0.id < $1.id } == raised.sorted { $0.id < $1.id })
        #expect(exported.map(\.json).sorted() == raised.map(\.json).sorted())
        let decoded = try JSONDecoder().decode(EngineState.self, from: JSONEncoder().encode(state))
        var restored = DetectionEngine(rules: [rule])
        #expect(restored.importState(decoded) == 0)
        let summaries = engine.finish()
        #expect(restored.finish() == summaries)
        #expect(summaries.count == users.count)
        for summary in summaries {
            let alert = try #require(raised.first { $0.id == summary.id })
            #expect(summary.json == F.summary(of: alert, count: 2, like: summary).json)
        }
    }

    /// An alert's last_seen is its window's count-th reference, unless it counts more
    /// matches than a window keeps references (here 3 of 2, and of none): then it is kept.
    @Test func anAlertCountingMoreThanItsReferencesKeepsItsLastSeen() throws {
        let rule = try F.rule(id: "Test.Threshold.Three", threshold: 3, dedupMinutes: 60, groupBy: ["source.ip"],
                              output: ["source.ip", "user.name"])
        for references in [0, 2, 3, 10] {
            let settings = EngineSettings(maxEventReferences: references)
            var engine = DetectionEngine(rules: [rule], settings: settings)
            var raised: [Alert] = []
            for (i, ip) in ["5.5.5.5", "6.6.6.6"].enumerated() {
                for t in [0.0, 7, 19, 30] {
                    let input = F.Input(event: F.event(at: t + Double(i), ip: ip, user: "user-\(i)"), line: Int(t) + i,
                                        enrichment: EventEnrichment(geo: i == 0 ? Self.berlin : nil))
                    raised += engine.process(input.event, enrichment: input.enrichment,
                                             origin: .file(path: "events.jsonl", line: input.line))
                }
            }
            #expect(raised.map(\.lastSeen) == [19.0, 20].map { EventTime(nanos: F.t0.nanos + Int64($0 * 1e9)) })
            let exported = engine.exportState().entries.compactMap { entry -> Alert? in
                guard case .threshold(let key) = entry.state else { return nil }
                return key.fired.first?.alert
            }
            #expect(exported.map(\.json).sorted() == raised.map(\.json).sorted(), "\(references) references")
        }
    }
}
