import Enrichment
import Foundation
import Testing

/// The ingest workers' memo in front of the enricher: the enricher's answers, for any event
/// time, through evictions and data refreshes, with its GeoIP answers counted as cache hits.
@Suite struct EnrichmentMemoTests {
    static let bulk2023 = Fixtures.path("tor/torbulkexitlist-2023-10.txt")
    static let bulk2024 = Fixtures.path("tor/torbulkexitlist-2024-03-12.txt")

    /// A Tor list read from a file holding `first`, then `then` (so the addresses of `first`
    /// alone are in its history only), and the GeoIP test database.
    private func enricher(in dir: URL, first: String, then: String?) async throws -> (Enricher, TorExitList, String) {
        let path = dir.appendingPathComponent("exits.txt").path
        try FileManager.default.copyItem(atPath: first, toPath: path)
        let tor = TorExitList(configuration: .init(source: TorExitSource(path)))
        _ = await tor.refresh()
        if let then {
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: then, toPath: path)
            _ = await tor.refresh()
        }
        let locator = try GeoLocator(configuration: .init(path: Fixtures.path("GeoIP2-City-Test.mmdb")))
        return (Enricher(geo: locator, tor: tor), tor, path)
    }

    @Test func answersAsTheEnricherDoesAtAnyEventTime() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (enricher, tor, _) = try await enricher(in: dir, first: Self.bulk2023, then: Self.bulk2024)
        let snapshot = try #require(tor.snapshot)
        let listed = snapshot.addresses.sorted { $0.description < $1.description }.prefix(5).map(\.description)
        let gone = snapshot.history.intervals.keys.filter { !snapshot.contains($0) }
            .sorted { $0.description < $1.description }.prefix(5).map(\.description)
        #expect(listed.count == 5 && gone.count == 5)
        let pool = listed + gone + ["::ffff:" + gone[0], "::ffff:" + listed[0], "81.2.69.142", "2.125.160.216",
                                    "2001:218::1", "10.0.0.1", "not an address", ""]
        // Eight entries for fifteen addresses: answers are evicted and found again.
        let memo = EnrichmentMemo(enricher: enricher, capacity: 8)
        memo.begin()
        let sighted = snapshot.changedAt
        var random = SystemRandomNumberGenerator()
        var exits = 0, located = 0
        for _ in 0..<3_000 {
            let ips = (0..<Int.random(in: 1...3, using: &random)).map { _ in pool.randomElement(using: &random)! }
            // No time, or around the sightings: before, within the grace, long after.
            let time: Date? = Bool.random(using: &random) ? nil
                : Date(timeIntervalSince1970: TimeInterval(sighted + Int64.random(in: -4 * 3600...30 * 3600, using: &random)))
            let expected = enricher.enrich(sourceIPs: ips, at: time)
            let got = memo.enrich(sourceIPs: ips, at: time)
            #expect(got == expected, "\(ips) at \(String(describing: time))")
            exits += expected.torExitIPs.count
            located += expected.geo == nil ? 0 : 1
        }
        #expect(exits > 100 && located > 100, "the cases are not all negative: \(exits) exits, \(located) located")
    }

    @Test func aRefreshedListIsUsedFromTheNextBegin() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (enricher, tor, path) = try await enricher(in: dir, first: Self.bulk2024, then: nil)
        let memo = EnrichmentMemo(enricher: enricher)
        let old = try #require(tor.snapshot)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: Self.bulk2023, toPath: path)
        // An address of the 2023 list only: not an exit before the refresh, one after.
        memo.begin()
        _ = await tor.refresh()
        let ip = try #require(tor.snapshot?.addresses.first { !old.contains($0) }?.description)
        #expect(memo.enrich(sourceIPs: [ip], at: nil).torExitIPs.isEmpty, "the snapshot of its begin()")
        memo.begin()
        #expect(memo.enrich(sourceIPs: [ip], at: nil).torExitIPs == [ip])
        #expect(memo.enrich(sourceIPs: [ip], at: nil) == enricher.enrich(sourceIPs: [ip], at: nil))
    }

    @Test func itsGeoIPAnswersCountAsCacheHits() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (enricher, _, _) = try await enricher(in: dir, first: Self.bulk2024, then: nil)
        let locator = try #require(enricher.geo)
        let before = locator.cacheStatistics
        let memo = EnrichmentMemo(enricher: enricher)
        memo.begin()
        for _ in 0..<10 { #expect(memo.enrich(sourceIPs: ["81.2.69.142"], at: nil).geo?.city == "London") }
        memo.end()
        let after = locator.cacheStatistics
        #expect(after.misses - before.misses == 1 && after.hits - before.hits == 9, "\(before) -> \(after)")
    }
}
