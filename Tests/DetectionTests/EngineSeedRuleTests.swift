import AuditEvents
import Enrichment
import Testing
@testable import Detection

/// The seed rules of `topology/rules`, loaded as shipped, through the engine.
@Suite struct EngineSeedRuleTests {
    typealias F = EngineFixtures

    func seed(_ id: String) throws -> Rule {
        try #require(try RuleLoader.load(directory: RuleFixtures.seedRules).first { $0.id == id })
    }

    @Test func tenDenialsFromAPublicIPv6AddressWithin30MinutesAlertOnce() throws {
        let rule = try seed("Kubernetes.API.Multiple403.PublicIP")
        let ip = "2600:1f18:abcd::1"
        let ten = (0..<10).map { F.event(at: Double($0) * 170, ip: ip) }
        let (alerts, _) = F.run([rule], F.inputs(ten + [F.event(at: 1790, ip: ip)]))
        #expect(alerts.map(\.kind) == [.alert, .summary])
        #expect(alerts.first?.title == "Multiple 403 responses from public IP [\(ip)]")
        #expect(alerts.first?.dedupKey == "k8s_403_\(ip)")
        #expect(alerts.last?.count == 11)
        // Nine are not enough.
        #expect(F.run([rule], F.inputs(Array(ten.prefix(9)))).alerts.isEmpty)
    }

    @Test func onlyTheFirstSourceIPCounts() throws {
        let rule = try seed("Kubernetes.API.Multiple403.PublicIP")
        // A private first address (the public one behind it does not make it public).
        let events = (0..<10).map { F.event(at: Double($0), ip: "10.0.0.7\",\"5.5.5.5") }
        #expect(events.first?.sourceIPs == ["10.0.0.7", "5.5.5.5"])
        #expect(F.run([rule], F.inputs(events)).alerts.isEmpty)
    }

    @Test func torActivityAlertsAtOnceAndSummarisesTheHour() throws {
        let rule = try seed("Kubernetes.API.IOC.Activity")
        let tor = EventEnrichment(torExitIPs: ["5.5.5.5"], torListTime: 1_743_830_000)
        var inputs = F.inputs([F.event(at: 0, code: 200), F.event(at: 1200, code: 200), F.event(at: 3600, code: 200)])
        for i in inputs.indices { inputs[i].enrichment = tor }
        let (alerts, _) = F.run([rule], inputs)
        #expect(alerts.map(\.kind) == [.alert, .alert, .summary])
        #expect(alerts[0].source?.isTorExit == true)
        #expect(alerts[0].title == "Kubernetes API activity from Tor exit node [5.5.5.5] by user [bob]")
        #expect(alerts[0].dataVersions.torListTime == 1_743_830_000)
        #expect(alerts[2].id == alerts[0].id && alerts[2].count == 2)
        // Without the Tor set the same events raise nothing.
        #expect(F.run([rule], F.inputs([F.event(at: 0, code: 200)])).alerts.isEmpty)
    }

    @Test func aLateDenialBeyondTheLatenessIsCountedAndLeftOut() throws {
        let rule = try seed("Kubernetes.API.Multiple403.PublicIP")
        let settings = EngineSettings(allowedLateness: 600)
        // Nine in the first minutes; event time then jumps an hour; the tenth arrives 59 minutes late.
        let events = (0..<9).map { F.event(at: Double($0)) } + [F.event(at: 3600, ip: "6.6.6.6"), F.event(at: 60)]
        let (alerts, engine) = F.run([rule], F.inputs(events), settings: settings)
        #expect(alerts.isEmpty)
        #expect(engine.statistics.lateEvents == 1)
        #expect(engine.statistics.rules[rule.id]?.lateMatches == 1)
    }

    /// `matchCount` (the stateless part of `process` alone, the bench's floor) counts the rules
    /// whose log type and condition hold, as `Rule.matches` judges each: over every seed rule and
    /// events of each log type that match none, one or several of them.
    @Test func matchCountIsTheNumberOfRulesThatMatch() throws {
        typealias S = SeedRuleFixtures
        let rules = try RuleLoader.load(directory: RuleFixtures.seedRules)
        let engine = DetectionEngine(rules: rules)
        let tor = EventEnrichment(torExitIPs: ["5.5.5.5"])
        let events = [
            try S.eks(0), try S.eks(0, ips: ["10.0.0.7"]), try S.eks(0, code: 200),
            try S.eks(0, stage: "RequestReceived"),
            try S.eks(0, groups: ["system:unauthenticated"]), try S.aks(0), try S.aks(0, code: 200), try S.gke(0),
            try S.gke(0, grpc: nil), try S.process(0, name: "curl", args: ["curl", "https://kubernetes.default"]),
            try S.process(0, name: "ls", args: ["ls"]),
        ]
        var counts: [Int] = []
        for event in events {
            for enrichment in [EventEnrichment.none, tor] {
                let expected = rules.filter { $0.matches(event, enrichment: enrichment) }.count
                #expect(engine.matchCount(event, enrichment: enrichment) == expected)
                counts.append(expected)
            }
        }
        #expect(Set(counts).isSuperset(of: [0, 1, 2, 3]), "the cases cover none, one and several rules")
        #expect(engine.statistics.events == 0, "nothing is counted as processed")
    }
}
