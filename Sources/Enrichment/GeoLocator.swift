import Foundation
import Logging
import Metrics
import Synchronization

/// GeoIP for the pipeline: a database plus its cache, swapped whole when the
/// file is replaced (hot reload), the Splunk `iplocation` step.
///
/// Readers take the current ``Snapshot`` (one short lock to copy a reference)
/// once per record or batch and look up through it; ``run()`` watches the file
/// and swaps in a new snapshot after an atomic rename such as `geoipupdate`
/// does. A file that does not open, or is not a City/Country database, is
/// refused: logged, counted (`vigil_geoip_reloads_total{outcome="refused"}`)
/// and the old database kept.
public final class GeoLocator: Sendable {
    public struct Configuration: Sendable {
        /// The MMDB file (GeoLite2/GeoIP2/DB-IP City or Country).
        public var path: String
        /// Language for names, English as fallback.
        public var language: String = "en"
        /// Most cached answers (positive and negative).
        public var cacheCapacity: Int = 100_000
        /// How often ``GeoLocator/run()`` checks the file for replacement.
        public var reloadCheckInterval: Duration = .seconds(30)

        public init(path: String, language: String = "en") {
            self.path = path
            self.language = language
        }
    }

    /// One database with its own cache: what a batch of lookups reads.
    public final class Snapshot: Sendable {
        public let database: GeoDatabase
        public let cache: GeoCache

        init(database: GeoDatabase, cacheCapacity: Int) {
            self.database = database
            self.cache = GeoCache(capacity: cacheCapacity)
        }

        /// The location of `address`, through the cache; nil when it has none.
        @inline(__always)
        public func lookup(_ address: IPAddress) -> GeoLocation? {
            cache.value(for: address, load: database.lookup)
        }

        public var metadata: GeoDatabaseMetadata { database.metadata }
    }

    /// What one reload check did.
    public enum ReloadOutcome: Sendable, Equatable {
        case unchanged
        case reloaded(GeoDatabaseMetadata)
        case refused(EnrichmentError)
    }

    private struct Watch {
        var signature: FileSignature?
        var retiredStatistics = GeoCache.Statistics()
        var reloads = 0
        var refusals = 0
        var lastError: EnrichmentError?
    }

    public let configuration: Configuration
    private let current: Mutex<Snapshot>
    private let watch: Mutex<Watch>
    private let logger: Logger
    private let reloadedCounter: Counter
    private let refusedCounter: Counter

    /// Opens the database; throws when it does not open or is not City/Country.
    public init(configuration: Configuration,
                logger: Logger = Logger(label: "vigil.enrichment.geoip")) throws(EnrichmentError) {
        let signature = FileSignature(path: configuration.path)
        let database = try GeoDatabase(path: configuration.path, language: configuration.language)
        self.configuration = configuration
        self.current = Mutex(Snapshot(database: database, cacheCapacity: configuration.cacheCapacity))
        self.watch = Mutex(Watch(signature: signature))
        self.logger = logger
        self.reloadedCounter = Counter(label: "vigil_geoip_reloads_total", dimensions: [("outcome", "reloaded")])
        self.refusedCounter = Counter(label: "vigil_geoip_reloads_total", dimensions: [("outcome", "refused")])
    }

    /// The current database and cache. Take it once per record or batch.
    public var snapshot: Snapshot { current.withLock { $0 } }

    /// Looks `address` up in the current snapshot.
    public func lookup(_ address: IPAddress) -> GeoLocation? { snapshot.lookup(address) }

    /// The database now in use: type and build epoch say which data judged an alert.
    public var metadata: GeoDatabaseMetadata { snapshot.metadata }

    /// Cache counts over this locator's life (all databases it has used).
    public var cacheStatistics: GeoCache.Statistics {
        let live = snapshot.cache.statistics
        let retired = watch.withLock { $0.retiredStatistics }
        return GeoCache.Statistics(hits: live.hits + retired.hits, misses: live.misses + retired.misses,
                                   entries: live.entries, capacity: live.capacity)
    }

    /// Reloads and refusals so far, and the last refusal's error.
    public var reloadCounts: (reloaded: Int, refused: Int, lastError: EnrichmentError?) {
        watch.withLock { ($0.reloads, $0.refusals, $0.lastError) }
    }

    /// Opens the file again if it changed (inode, size or mtime) since the last
    /// check, and swaps it in when it is a usable database. A refused file is
    /// not retried until it changes again.
    @discardableResult
    public func reloadIfChanged() -> ReloadOutcome {
        let signature = FileSignature(path: configuration.path)
        let changed = watch.withLock { state -> Bool in
            guard state.signature != signature else { return false }
            state.signature = signature
            return true
        }
        guard changed else { return .unchanged }
        return reload()
    }

    /// Opens the file now and swaps it in, or keeps the old database.
    @discardableResult
    public func reload() -> ReloadOutcome {
        do {
            let database = try GeoDatabase(path: configuration.path, language: configuration.language)
            let fresh = Snapshot(database: database, cacheCapacity: configuration.cacheCapacity)
            let old = current.withLock { snapshot -> Snapshot in
                let old = snapshot
                snapshot = fresh
                return old
            }
            let retiring = old.cache.statistics
            watch.withLock { state in
                state.retiredStatistics = state.retiredStatistics + retiring
                state.reloads += 1
            }
            reloadedCounter.increment()
            logger.info("GeoIP database reloaded", metadata: [
                "path": "\(configuration.path)", "type": "\(database.metadata.databaseType)",
                "build_epoch": "\(database.metadata.buildEpoch)",
            ])
            return .reloaded(database.metadata)
        } catch {
            watch.withLock { state in
                state.refusals += 1
                state.lastError = error
            }
            refusedCounter.increment()
            logger.error("GeoIP database refused; keeping the one in use", metadata: [
                "path": "\(configuration.path)", "error": "\(error)",
            ])
            return .refused(error)
        }
    }

    /// Checks the file every ``Configuration/reloadCheckInterval`` until the
    /// task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.reloadCheckInterval)
            } catch {
                return
            }
            reloadIfChanged()
        }
    }
}

/// Identity and version of a file: a replacement by rename changes the inode,
/// an in-place rewrite the size or mtime. What the reload watches compare (the GeoIP
/// file here, the rules folder in Runtime).
public struct FileSignature: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int

    /// Nil when the file does not exist or cannot be read.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
    }
}
