import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// Sequence cases (through the engine) and the replay's reading, ordering and run.
@Suite struct RuleTestingReplayTests {
    static let replayFixtures = RuleFixtures.testsDirectory + "/Fixtures/replay"
    static let torList = RuleFixtures.testsDirectory + "/../EnrichmentTests/Fixtures/tor/exit-addresses-2024-03-12.txt"

    private func seedRules() throws -> [Rule] {
        try RuleLoader.load(directory: RuleFixtures.seedRules)
    }

    /// An EKS 403 from `ip`, `minute` minutes after 2024-03-12T12:00:00Z.
    private func denial(_ ip: String, minute: Int) -> [UInt8] {
        let time = String(format: "2024-03-12T12:%02d:00Z", minute)
        return Array("""
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"d\(minute)","stage":"ResponseComplete",\
            "verb":"list","requestURI":"/api/v1/secrets","user":{"username":"bob"},"sourceIPs":["\(ip)"],\
            "responseStatus":{"code":403},"requestReceivedTimestamp":"\(time)","stageTimestamp":"\(time)"}
            """.utf8)
    }

    private func sequence(_ count: Int, expected: Int) -> RuleTestCase {
        RuleTestCase(ruleID: "Kubernetes.API.Multiple403.PublicIP", name: "\(count) denials",
                     origin: .inline(file: "seq.yaml", index: 0),
                     records: (0..<count).map { denial("5.5.5.5", minute: $0 * 2) }, logType: .eksAudit,
                     torExitNodes: [], expectation: .alerts(expected))
    }

    @Test func aSequenceRunsThroughTheEngineAndCountsItsAlerts() throws {
        let runner = RuleTestRunner(rules: try seedRules())
        #expect(runner.run(sequence(10, expected: 1)).passed)
        #expect(runner.run(sequence(9, expected: 0)).passed)
        let nine = runner.run(sequence(9, expected: 1))
        #expect(nine.failure == "expected 1 alert; the engine raised 0 from 9 events")
    }

    static let geoTestDatabase = RuleFixtures.testsDirectory + "/../EnrichmentTests/Fixtures/GeoIP2-City-Test.mmdb"

    @Test func inlineSequenceTestsOfRuleFilesRunThroughTheEngine() throws {
        let suite = RuleTestSuite.load(paths: [RuleFixtures.testsDirectory + "/Fixtures/rule-tests"])
        #expect(suite.problems.isEmpty, "\(suite.problems)")
        #expect(suite.cases.count(where: { if case .alerts = $0.expectation { true } else { false } }) == 7)
        let geo = try GeoLocator(configuration: .init(path: Self.geoTestDatabase))
        for result in RuleTestRunner(rules: suite.rules, geo: geo).run(suite.cases) {
            #expect(result.passed, "\(result.testCase.origin) \(result.testCase.name): \(result.failure ?? "")")
        }
        // Without a GeoIP database no event has a City: the aggregate's group-by drops them all.
        let withoutGeo = RuleTestRunner(rules: suite.rules).run(suite.cases).filter { !$0.passed }
        #expect(withoutGeo.map(\.testCase.name) == ["six unauthenticated denials in an hour from a located IP"])
        #expect(withoutGeo.first?.failure == "expected 1 alert; the engine raised 0 from 6 events")
    }

    @Test func aWrongSequenceExpectationFails() {
        let suite = RuleTestSuite.load(paths: [RuleFixtures.testsDirectory + "/Fixtures/rule-tests-failing"])
        let failed = RuleTestRunner(rules: suite.rules).run(suite.cases).filter { !$0.passed }
        #expect(failed.map(\.testCase.name) == ["nine denials raise none"])
    }

    private func readFixtures(_ names: [String]) throws -> ReplayInput {
        var input = ReplayInput()
        for name in names {
            let path = Self.replayFixtures + "/" + name
            let data = try #require(FileManager.default.contents(atPath: path))
            input.add(contents: Array(data), path: path, decoder: try AuditRecordDecoder(format: .auto))
        }
        return input
    }

    @Test func replayInputAccountsForEveryLineAndSortsByEventTime() throws {
        var input = try readFixtures(["eks-a.jsonl", "eks-b.jsonl"])
        #expect(input.records == 35, "a blank line is no record")
        #expect(input.entries.count == 34)
        #expect(input.deadLettered == 1 && input.skipped == 0)
        let dead = try #require(input.rejected.first)
        #expect(dead.path.hasSuffix("eks-a.jsonl") && dead.line == 14 && dead.issue.reason == .malformedJSON)
        #expect(input.entries.allSatisfy { $0.event.logType == .eksAudit })
        input.sortByEventTime()
        let times = input.entries.compactMap(\.event.time)
        #expect(times.count == 34 && times == times.sorted())
    }

    @Test func untimedEventsKeepTheirPlaceInTheFile() throws {
        var input = ReplayInput()
        let lines = [
            #"{"kind":"Event","auditID":"b","sourceIPs":["1.1.1.1"],"stageTimestamp":"2024-01-01T00:00:02Z"}"#,
            #"{"kind":"Event","auditID":"untimed","sourceIPs":["1.1.1.1"]}"#,
            #"{"kind":"Event","auditID":"a","sourceIPs":["1.1.1.1"],"stageTimestamp":"2024-01-01T00:00:01Z"}"#,
        ]
        input.add(contents: Array(lines.joined(separator: "\r\n").utf8), path: "x", decoder: try AuditRecordDecoder())
        #expect(input.untimed == 1)
        input.sortByEventTime()
        #expect(input.entries.map { $0.event.auditID ?? "" } == ["a", "b", "untimed"])
    }

    private func replay(_ names: [String]) async throws -> (alerts: [Alert], statistics: EngineStatistics) {
        let tor = TorExitList(configuration: .init(source: TorExitSource(Self.torList)))
        _ = await tor.refresh()
        #expect(tor.snapshot != nil)
        let replay = Replay(enricher: Enricher(geo: nil, tor: tor))
        var alerts: [Alert] = []
        let statistics = replay.run(try readFixtures(names), rules: try seedRules()) { alerts.append($0) }
        return (alerts, statistics)
    }

    @Test func replayRaisesTheExpectedAlertsWithTheSameIdsWhateverTheFileOrder() async throws {
        let (alerts, statistics) = try await replay(["eks-a.jsonl", "eks-b.jsonl"])
        let raised = alerts.filter { $0.kind == .alert }
        #expect(raised.map(\.ruleID).sorted() == ["Amazon.EKS.Audit.Multiple403", "Kubernetes.API.IOC.Activity",
                                                  "Kubernetes.API.Multiple403.PublicIP"], "\(alerts.map(\.json))")
        let unified = try #require(raised.first { $0.ruleID == "Kubernetes.API.Multiple403.PublicIP" })
        #expect(unified.source?.ip == "5.5.5.5" && unified.count == 10)
        #expect(unified.title == "Multiple 403 responses from public IP [5.5.5.5]")
        #expect(unified.events.allSatisfy { if case .file = $0 { return true } else { return false } })
        let tor = try #require(raised.first { $0.ruleID == "Kubernetes.API.IOC.Activity" })
        #expect(tor.source?.ip == "185.241.208.232" && tor.source?.isTorExit == true)
        #expect(statistics.events == 34 && statistics.lateEvents == 0)

        let again = try await replay(["eks-a.jsonl", "eks-b.jsonl"])
        #expect(again.alerts.map(\.id) == alerts.map(\.id))
        let swapped = try await replay(["eks-b.jsonl", "eks-a.jsonl"])
        #expect(Set(swapped.alerts.map(\.id)) == Set(alerts.map(\.id)))
    }
}
