import ArgumentParser
import Dispatch
import Enrichment
import Foundation
import LoadGen
import Synchronization

/// `vigil-bench geo`: GeoIP lookups/s on one core against a City database, on
/// random public IPv4 addresses: uncached (every lookup walks the MMDB tree and
/// reads the iplocation paths with MMDB_aget_value), and cached (a working set
/// that fits the cache), plus the cached rate with every core looking up.
struct GeoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geo",
        abstract: "GeoIP lookup throughput: uncached and cached, per core.")

    @Option(help: "The database (GeoLite2-City by default).")
    var db: String = "geo/GeoLite2-City.mmdb"

    @Option(help: "Distinct random public IPv4 addresses for the uncached runs.")
    var addresses: Int = 1_000_000

    @Option(help: "Working set for the cached runs (fits the cache).")
    var workingSet: Int = 10_000

    @Option(help: "Seconds per timed run.")
    var seconds: Double = 2

    @Option(help: "Timed runs per variant (the best is reported).")
    var runs: Int = 3

    func run() throws {
        var generator = SplitMix64(seed: 20_261_122)
        var publicAddresses: [IPAddress] = []
        publicAddresses.reserveCapacity(addresses)
        while publicAddresses.count < addresses {
            let address = IPAddress.v4(UInt32(truncatingIfNeeded: generator.next()))
            if address.isGlobal { publicAddresses.append(address) }
        }
        let database = try GeoDatabase(path: db)
        let located = publicAddresses.prefix(100_000).filter { database.lookup($0) != nil }.count
        print("database: \(database.metadata.databaseType), built \(database.metadata.buildDate), \(db)")
        print("addresses: \(addresses) random public IPv4 (\(located * 100 / min(addresses, 100_000))% have a location)")

        let plain = try GeoDatabase(path: db, recordCacheCapacity: 0)
        let decoded = best {
            Self.measure(seconds: seconds, addresses: publicAddresses) { plain.lookup($0) != nil }
        }
        print(String(format: "no cache at all (tree + 21 MMDB_aget_value), 1 core: %10.0f lookups/s", decoded))
        let uncached = best {
            Self.measure(seconds: seconds, addresses: publicAddresses) { database.lookup($0) != nil }
        }
        print(String(format: "IP-cache miss (tree + record cache), 1 core:          %10.0f lookups/s", uncached))

        var configuration = GeoLocator.Configuration(path: db)
        configuration.cacheCapacity = workingSet * 4
        let locator = try GeoLocator(configuration: configuration)
        let hot = Array(publicAddresses.prefix(workingSet))
        let snapshot = locator.snapshot
        hot.forEach { _ = snapshot.lookup($0) }
        let cached = best {
            Self.measure(seconds: seconds, addresses: hot) { snapshot.lookup($0) != nil }
        }
        print(String(format: "IP-cache hit (%d-address working set), 1 core:      %10.0f lookups/s", workingSet, cached))

        let cores = ProcessInfo.processInfo.activeProcessorCount
        let parallel = best {
            let rates = GeoBenchRates()
            let seconds = self.seconds
            DispatchQueue.concurrentPerform(iterations: cores) { index in
                let slice = Array(hot[(index * hot.count / cores)...] + hot[..<(index * hot.count / cores)])
                rates.add(Self.measure(seconds: seconds, addresses: slice) { snapshot.lookup($0) != nil })
            }
            return rates.total
        }
        print(String(format: "IP-cache hit, %d threads together:                   %10.0f lookups/s (%.0f per thread)",
                     cores, parallel, parallel / Double(cores)))
        let stats = locator.cacheStatistics
        print("cache: \(stats.hits) hits, \(stats.misses) misses, \(stats.entries) entries of \(stats.capacity)")

        let texts = publicAddresses.prefix(100_000).map(\.description)
        let parse = best {
            Self.measure(seconds: seconds, addresses: texts) { IPAddress($0) != nil }
        }
        print(String(format: "IPAddress(String) parse, 1 core:                      %10.0f /s", parse))
    }

    private func best(_ body: () -> Double) -> Double {
        (0..<max(1, runs)).map { _ in body() }.max() ?? 0
    }

    /// Calls per second over `seconds`, cycling through `addresses`.
    static func measure<Item>(seconds: Double, addresses: [Item], _ lookup: (Item) -> Bool) -> Double {
        var index = 0, count = 0, found = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let end = start + UInt64(seconds * 1e9)
        while DispatchTime.now().uptimeNanoseconds < end {
            for _ in 0..<1000 {
                if lookup(addresses[index]) { found += 1 }
                index = index + 1 == addresses.count ? 0 : index + 1
            }
            count += 1000
        }
        geoBenchBlackHole(found)
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// Per-thread rates, summed.
private final class GeoBenchRates: Sendable {
    private let rates = Mutex<[Double]>([])
    func add(_ rate: Double) { rates.withLock { $0.append(rate) } }
    var total: Double { rates.withLock { $0.reduce(0, +) } }
}

@inline(never)
private func geoBenchBlackHole(_ value: Int) {
    if value == -1 { print("") }
}
