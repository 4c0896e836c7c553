import Foundation
import Synchronization
import Testing
@testable import Enrichment

/// The cache and hot reload: the database file replaced by atomic rename while
/// lookups continue, and bad replacements refused.
@Suite struct GeoLocatorTests {
    /// A directory holding `db.mmdb`, a copy of fixture `name`.
    static func workspace(with name: String) throws -> (URL, String) {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("db.mmdb").path
        try FileManager.default.copyItem(atPath: Fixtures.path(name), toPath: path)
        return (dir, path)
    }

    /// Copies fixture `name` next to `path` and renames it over `path`, as geoipupdate does.
    static func replace(_ path: String, with name: String) throws {
        let staging = path + ".staging-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: Fixtures.path(name), toPath: staging)
        guard rename(staging, path) == 0 else { throw EnrichmentError(.fileFailed, "rename failed") }
    }

    @Test func cacheCountsHitsAndMissesIncludingNegativeAnswers() throws {
        let locator = try GeoLocator(configuration: .init(path: Fixtures.path("GeoIP2-City-Test.mmdb")))
        let london = try #require(IPAddress("81.2.69.142"))
        let unknown = try #require(IPAddress("10.0.0.1"))
        #expect(locator.lookup(london)?.city == "London")
        #expect(locator.lookup(london)?.city == "London")
        #expect(locator.lookup(unknown) == nil)
        #expect(locator.lookup(unknown) == nil)
        let stats = locator.cacheStatistics
        #expect(stats.hits == 2)
        #expect(stats.misses == 2)
        #expect(stats.entries == 2)
    }

    @Test func cacheStaysWithinItsCapacity() throws {
        let cache = GeoCache(capacity: 100)
        for value in 0..<10_000 as Range<UInt32> {
            _ = cache.value(for: .v4(value)) { _ in nil }
        }
        #expect(cache.statistics.entries <= cache.capacity)
        #expect(cache.capacity <= 100)
        #expect(cache.statistics.misses == 10_000)
        // The most recent entries are still there.
        _ = cache.value(for: .v4(9_999)) { _ in Issue.record("evicted too early"); return nil }
    }

    @Test func renamedFileIsReloadedAndMetadataChanges() throws {
        let (dir, path) = try Self.workspace(with: "GeoIP2-City-Test.mmdb")
        defer { try? FileManager.default.removeItem(at: dir) }
        let locator = try GeoLocator(configuration: .init(path: path))
        let munichIP = try #require(IPAddress("198.51.100.7"))
        #expect(locator.lookup(munichIP) == nil)
        #expect(locator.reloadIfChanged() == .unchanged)
        try Self.replace(path, with: "Vigil-City-Test.mmdb")
        guard case .reloaded(let metadata) = locator.reloadIfChanged() else {
            Issue.record("not reloaded")
            return
        }
        #expect(metadata.databaseType == "GeoIP2-City")
        #expect(locator.lookup(munichIP)?.city == "Munich")  // a fresh cache: no stale negative answer
        #expect(locator.reloadCounts.reloaded == 1)
    }

    @Test func badReplacementsAreRefusedAndTheOldDatabaseKept() throws {
        let (dir, path) = try Self.workspace(with: "GeoIP2-City-Test.mmdb")
        defer { try? FileManager.default.removeItem(at: dir) }
        let locator = try GeoLocator(configuration: .init(path: path))
        let london = try #require(IPAddress("81.2.69.142"))

        try Self.replace(path, with: "Vigil-ASN-Test.mmdb")
        guard case .refused(let error) = locator.reloadIfChanged() else {
            Issue.record("ASN database accepted")
            return
        }
        #expect(error.code == .unsupportedDatabase)
        #expect(locator.lookup(london)?.city == "London")
        #expect(locator.reloadIfChanged() == .unchanged)  // not retried until it changes again

        try Self.replace(path, with: "ip-classification.tsv")
        guard case .refused(let garbage) = locator.reloadIfChanged() else {
            Issue.record("garbage accepted")
            return
        }
        #expect(garbage.code == .databaseOpenFailed)
        #expect(locator.metadata.databaseType == "GeoIP2-City")
        #expect(locator.reloadCounts.refused == 2)
        #expect(locator.lookup(london)?.city == "London")
    }

    @Test func lookupsNeverFailWhileTheFileIsReplacedRepeatedly() async throws {
        let (dir, path) = try Self.workspace(with: "GeoIP2-City-Test.mmdb")
        defer { try? FileManager.default.removeItem(at: dir) }
        var configuration = GeoLocator.Configuration(path: path)
        configuration.reloadCheckInterval = .milliseconds(1)
        configuration.cacheCapacity = 64
        let locator = try GeoLocator(configuration: configuration)
        let watcher = Task { await locator.run() }
        // Both databases place 81.2.69.142 in London (GeoIP2/GeoLite2 City test data).
        let london = try #require(IPAddress("81.2.69.142"))
        let stop = StopFlag()
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var failures = 0
                    var n: UInt32 = 0
                    while !stop.isSet {
                        // A mix of cached and uncached addresses.
                        n &+= 1
                        _ = locator.lookup(.v4(0x5102_4500 | (n & 0xFF) | UInt32(worker) << 8))
                        if locator.lookup(london)?.countryCode != "GB" { failures += 1 }
                        if n % 64 == 0 { await Task.yield() }  // two cores: let the watcher and replacer run
                    }
                    return failures
                }
            }
            group.addTask {
                defer { stop.set() }
                for swap in 0..<10 {
                    try Self.replace(path, with: swap % 2 == 0 ? "GeoLite2-City-Test.mmdb" : "GeoIP2-City-Test.mmdb")
                    let seen = await eventually { locator.reloadCounts.reloaded > swap }
                    if !seen { Issue.record("swap \(swap) not picked up") }
                }
                return 0
            }
            return try await group.reduce(0, +)
        }
        watcher.cancel()
        await watcher.value
        #expect(failures == 0)
        #expect(locator.reloadCounts.reloaded >= 10)
        #expect(locator.reloadCounts.refused == 0)
    }
}

/// A flag one task sets and others poll.
final class StopFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
