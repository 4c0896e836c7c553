import Foundation
import Testing
@testable import Enrichment

/// The refresher against a local HTTP server serving the real snapshots, and failing.
@Suite struct TorExitListTests {
    static let bulk2024 = Fixtures.path("tor/torbulkexitlist-2024-03-12.txt")
    static let bulk2023 = Fixtures.path("tor/torbulkexitlist-2023-10.txt")
    static let exitAddresses = Fixtures.path("tor/exit-addresses-2024-03-12.txt")
    /// On both lists.
    static let listed = IPAddress("185.241.208.232")
    /// 2024-03-12 12:00 UTC, two hours before the exit-addresses snapshot's end.
    static let start = Date(timeIntervalSince1970: 1_710_244_800)

    static func configuration(_ url: String, state: String? = nil) -> TorExitList.Configuration {
        var configuration = TorExitList.Configuration(source: .url(url), stateFile: state)
        configuration.retries = 2
        configuration.retryBackoff = .milliseconds(10)
        configuration.requestTimeout = .seconds(5)
        return configuration
    }

    static func list(_ configuration: TorExitList.Configuration, clock: TestClock) -> TorExitList {
        TorExitList(configuration: configuration, now: { clock.now })
    }

    /// Writes `state` with one refresh of the 2024 bulk list (1174 addresses) from a server
    /// that is gone when this returns.
    static func saveBulkState(at state: String, clock: TestClock, etag: String? = nil) async throws {
        var response: [String: any Sendable] = ["file": bulk2024]
        if let etag { response["etag"] = etag }
        let server = try TorTestServer([response])
        #expect(await list(configuration(server.url, state: state), clock: clock).refresh() == .updated(count: 1174))
    }

    /// A source nothing answers at (port 9), given up on at once, with `state` as the state file.
    static func offline(state: String) -> TorExitList.Configuration {
        var configuration = configuration("http://127.0.0.1:9/torbulkexitlist", state: state)
        configuration.requestTimeout = .milliseconds(300)
        configuration.retries = 0
        return configuration
    }

    static func code(_ outcome: TorExitList.RefreshOutcome) -> EnrichmentError.Code? {
        if case .kept(let error) = outcome { return error.code }
        return nil
    }

    @Test func downloadsThenRevalidatesWithConditionalGet() async throws {
        let server = try TorTestServer([["file": Self.bulk2024, "etag": "\"v1\"", "conditional": true,
                                         "last_modified": "Tue, 12 Mar 2024 14:00:00 GMT"]])
        let clock = TestClock(Self.start)
        let tor = Self.list(Self.configuration(server.url), clock: clock)
        #expect(tor.status.degraded)
        #expect(await tor.refresh() == .updated(count: 1174))
        #expect(tor.isExit(try #require(Self.listed)))
        #expect(tor.isExit(try #require(IPAddress("::ffff:185.241.208.232"))))
        #expect(!tor.isExit(try #require(IPAddress("8.8.8.8"))))
        clock.advance(3600)
        #expect(tor.status.age == 3600)
        #expect(await tor.refresh() == .notModified)
        #expect(tor.status.age == 0)
        #expect(tor.snapshot?.count == 1174)
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests.last?.if_none_match == "\"v1\"")
        #expect(requests.last?.if_modified_since == "Tue, 12 Mar 2024 14:00:00 GMT")
    }

    @Test func serverErrorsAreRetriedWithBackoff() async throws {
        let server = try TorTestServer([["status": 500, "times": 2], ["file": Self.bulk2024]])
        let tor = Self.list(Self.configuration(server.url), clock: TestClock(Self.start))
        #expect(await tor.refresh() == .updated(count: 1174))
        #expect(server.requests.count == 3)
    }

    @Test func everyKindOfBadDownloadKeepsTheLastGoodList() async throws {
        let server = try TorTestServer([["file": Self.bulk2024]])
        var configuration = Self.configuration(server.url)
        configuration.requestTimeout = .milliseconds(300)
        configuration.retries = 1
        let tor = Self.list(configuration, clock: TestClock(Self.start))
        #expect(await tor.refresh() == .updated(count: 1174))
        let cases: [([String: any Sendable], EnrichmentError.Code)] = [
            (["status": 500], .fetchFailed),
            (["status": 404], .fetchFailed),
            (["file": Self.bulk2024, "delay": 2], .fetchFailed),          // timeout
            (["file": Self.bulk2024, "truncate": 5000], .fetchFailed),    // truncated body
            (["body": "<html>Service Unavailable</html>"], .unparseableList),
            (["body": "185.220.101.1\n185.220.101.\n"], .unparseableList),
            (["body": ""], .unparseableList),
            (["body": "185.220.101.1\n185.220.101.2\n"], .shrunkenList),
        ]
        for (response, expected) in cases {
            try server.play([response])
            // The timeout case proves the 300 ms request timeout: without it the delayed
            // response would arrive and the refresh succeed. (No wall-clock bound here: the
            // suite runs beside CPU-heavy tests and a busy machine only slows it.)
            let outcome = await tor.refresh()
            #expect(Self.code(outcome) == expected, "\(response)")
            #expect(tor.snapshot?.count == 1174, "\(response)")
            #expect(tor.status.lastError?.code == expected)
        }
        try server.play([["file": Self.bulk2024]])
        #expect(await tor.refresh() == .updated(count: 1174))
        #expect(tor.status.lastError == nil)
    }

    @Test func aSmallerListIsAcceptedOnceItPersists() async throws {
        let server = try TorTestServer([["file": Self.bulk2024, "times": 1],
                                        ["body": "185.220.101.1\n185.220.101.2\n"]])
        let tor = Self.list(Self.configuration(server.url), clock: TestClock(Self.start))
        #expect(await tor.refresh() == .updated(count: 1174))
        #expect(Self.code(await tor.refresh()) == .shrunkenList)
        #expect(Self.code(await tor.refresh()) == .shrunkenList)
        #expect(await tor.refresh() == .updated(count: 2))
    }

    @Test func aChangedListIsJudgedByEventTime() async throws {
        let server = try TorTestServer([["file": Self.bulk2023, "times": 1], ["file": Self.bulk2024]])
        let clock = TestClock(Self.start)
        let tor = Self.list(Self.configuration(server.url), clock: clock)
        #expect(await tor.refresh() == .updated(count: 1305))
        let first = clock.now
        clock.advance(3600)
        #expect(await tor.refresh() == .updated(count: 1174))
        let snapshot = try #require(tor.snapshot)
        let gone = try #require(snapshot.history.intervals.keys.first { !snapshot.contains($0) })
        #expect(!tor.isExit(gone))
        #expect(tor.wasExit(gone, at: first))                       // an event from the first hour
        #expect(!tor.wasExit(gone, at: clock.now.addingTimeInterval(2 * 3600)))
        #expect(tor.wasExit(try #require(Self.listed), at: clock.now.addingTimeInterval(600)))
        // Past the retention window the old sightings are gone.
        clock.advance(25 * 3600)
        _ = await tor.refresh()
        #expect(!tor.wasExit(gone, at: first))
    }

    @Test func exitAddressesGiveHistoryFromOneDownload() async throws {
        let server = try TorTestServer([["file": Self.exitAddresses]])
        let clock = TestClock(Date(timeIntervalSince1970: 1_710_253_000))  // 2024-03-12 14:16 UTC
        let tor = Self.list(Self.configuration(server.url), clock: clock)
        #expect(await tor.refresh() == .updated(count: 1174))
        let ip = try #require(Self.listed)  // ExitAddress 185.241.208.232 2024-03-12 08:10:51
        #expect(tor.wasExit(ip, at: Date(timeIntervalSince1970: 1_710_231_051)))
        #expect(!tor.wasExit(ip, at: Date(timeIntervalSince1970: 1_710_231_051 - 3 * 3600)))
        #expect(tor.snapshot?.format == .exitAddresses)
    }

    @Test func lastGoodListSurvivesARestartWithoutNetwork() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("tor/state.json").path
        let clock = TestClock(Self.start)
        try await Self.saveBulkState(at: state, clock: clock, etag: "\"e\"")
        // The server is gone: nothing listens on its port any more.
        clock.advance(7200)
        var configuration = Self.offline(state: state)
        configuration.maximumAge = .seconds(3 * 3600)
        let restarted = Self.list(configuration, clock: clock)
        #expect(restarted.snapshot?.count == 1174)
        #expect(restarted.snapshot?.etag == "\"e\"")
        #expect(restarted.isExit(try #require(Self.listed)))
        #expect(!restarted.status.degraded)
        #expect(Self.code(await restarted.refresh()) == .fetchFailed)
        #expect(restarted.snapshot?.count == 1174)
        clock.advance(3600 + 1)
        #expect(restarted.status.degraded)
        let saved = try #require(try TorExitState.load(from: state))
        #expect(saved.lastError != nil)
        #expect(saved.addresses.count == 1174)
    }

    /// A state file whose times lie outside 1970...9999 (another program's, a damaged one) is
    /// refused like any malformed state: the list starts without it instead of trapping on an
    /// age worked out from it.
    @Test func aStateWithTimesOutOfRangeIsRefused() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("tor/state.json").path
        let clock = TestClock(Self.start)
        try await Self.saveBulkState(at: state, clock: clock)
        let good = try #require(try TorExitState.load(from: state))
        #expect(try good.snapshot(grace: 3600).count == 1174)
        let damages: [(inout TorExitState) -> Void] = [
            { $0.confirmedAt = .min }, { $0.changedAt = .max }, { $0.lastAttempt = -1 },
            { $0.history = ["5.5.5.5": [[.min, 0]]] }, { $0.history = ["5.5.5.5": [[0, .max]]] },
        ]
        for damage in damages {
            var bad = good
            damage(&bad)
            try bad.save(to: state)
            #expect(throws: EnrichmentError.self) { _ = try TorExitState.load(from: state)?.snapshot(grace: 3600) }
            #expect(Self.list(Self.offline(state: state), clock: clock).snapshot == nil)
        }
    }

    @Test func fileSourceIsReadAndUnchangedFilesAreNotModified() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("exits.txt").path
        try FileManager.default.copyItem(atPath: Self.bulk2024, toPath: path)
        let tor = TorExitList(configuration: .init(source: TorExitSource(path)))
        #expect(await tor.refresh() == .updated(count: 1174))
        #expect(await tor.refresh() == .notModified)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: Self.bulk2023, toPath: path)
        #expect(await tor.refresh() == .updated(count: 1305))
    }

    @Test func runRefreshesOnItsOwnAndStopsWhenCancelled() async throws {
        let server = try TorTestServer([["file": Self.bulk2024]])
        var configuration = Self.configuration(server.url)
        configuration.refreshInterval = .seconds(1)
        let tor = TorExitList(configuration: configuration)
        let task = Task { await tor.run() }
        let refreshed = await eventually { server.requests.count >= 2 }
        task.cancel()
        await task.value
        #expect(refreshed)
        #expect(tor.snapshot?.count == 1174)
    }

    @Test func runRetriesSoonerAfterAFailedRefresh() async throws {
        let server = try TorTestServer([["status": 503, "times": 1], ["file": Self.bulk2024]])
        var configuration = Self.configuration(server.url)
        configuration.retries = 0
        configuration.failureRetryInterval = .seconds(1)
        let tor = TorExitList(configuration: configuration)  // hourly refresh
        let task = Task { await tor.run() }
        let recovered = await eventually { tor.snapshot != nil }
        task.cancel()
        await task.value
        #expect(recovered)  // within seconds, not the hourly interval
        #expect(tor.snapshot?.count == 1174)
        #expect(server.requests.count == 2)
    }
}
