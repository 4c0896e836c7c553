import Synchronization

/// A bounded cache of GeoIP answers (including "no location"), in front of
/// ``GeoDatabase``.
///
/// Sharded by address so threads rarely meet on a lock; each shard keeps two
/// generations: lookups hit the current one or promote from the previous one,
/// and when the current one is full it becomes the previous one (the oldest
/// generation is dropped whole). That approximates LRU at the cost of one
/// dictionary probe per lookup, and bounds the size at `capacity` entries.
public final class GeoCache: Sendable {
    /// Counts since the cache was made.
    public struct Statistics: Sendable, Hashable {
        public var hits = 0
        public var misses = 0
        public var entries = 0
        public var capacity = 0

        /// Hits over lookups, 0 when there were none.
        public var hitRatio: Double {
            hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses)
        }

        static func + (lhs: Statistics, rhs: Statistics) -> Statistics {
            Statistics(hits: lhs.hits + rhs.hits, misses: lhs.misses + rhs.misses,
                       entries: lhs.entries + rhs.entries, capacity: lhs.capacity + rhs.capacity)
        }
    }

    private struct Generations {
        var current: [IPAddress: GeoLocation?] = [:]
        var previous: [IPAddress: GeoLocation?] = [:]
        var hits = 0
        var misses = 0
    }

    private final class Shard: Sendable {
        let state = Mutex(Generations())
        let generationCapacity: Int
        init(generationCapacity: Int) { self.generationCapacity = generationCapacity }
    }

    private let shards: [Shard]
    private let mask: Int
    public let capacity: Int

    /// - Parameter capacity: most entries kept (at least one per shard).
    public init(capacity: Int) {
        let shardCount = capacity >= 4096 ? 16 : 1
        let perGeneration = max(1, capacity / (2 * shardCount))
        self.shards = (0..<shardCount).map { _ in Shard(generationCapacity: perGeneration) }
        self.mask = shardCount - 1
        self.capacity = perGeneration * 2 * shardCount
    }

    @inline(__always)
    private func shard(for address: IPAddress) -> Shard {
        shards[Int(truncatingIfNeeded: address.mixedBits >> 59) & mask]
    }

    /// The cached answer: `.some(nil)` is a cached "no location", `nil` a miss.
    public func cached(_ address: IPAddress) -> GeoLocation?? {
        let shard = shard(for: address)
        return shard.state.withLock { state -> GeoLocation?? in
            if let hit = state.current[address] {
                state.hits += 1
                return .some(hit)
            }
            if let old = state.previous[address] {
                state.hits += 1
                Self.insert(old, for: address, into: &state, limit: shard.generationCapacity)
                return .some(old)
            }
            state.misses += 1
            return nil
        }
    }

    /// Stores an answer (nil: the address has no location).
    public func store(_ location: GeoLocation?, for address: IPAddress) {
        let shard = shard(for: address)
        shard.state.withLock { state in
            Self.insert(location, for: address, into: &state, limit: shard.generationCapacity)
        }
    }

    private static func insert(_ location: GeoLocation?, for address: IPAddress,
                               into state: inout Generations, limit: Int) {
        if state.current.count >= limit {
            state.previous = state.current
            state.current = Dictionary(minimumCapacity: limit)
        }
        state.current[address] = .some(location)
    }

    /// Looks up through the cache, asking `load` on a miss.
    @inline(__always)
    public func value(for address: IPAddress, load: (IPAddress) -> GeoLocation?) -> GeoLocation? {
        if let cached = cached(address) { return cached }
        let loaded = load(address)
        store(loaded, for: address)
        return loaded
    }

    /// Counts `n` answers given from a memo in front of this cache as hits
    /// (``EnrichmentMemo``): the hit ratio stays the share of lookups answered
    /// without the database.
    public func countHits(_ n: Int) {
        guard n > 0 else { return }
        shards[0].state.withLock { $0.hits += n }
    }

    public var statistics: Statistics {
        shards.reduce(Statistics()) { sum, shard in
            sum + shard.state.withLock { state in
                Statistics(hits: state.hits, misses: state.misses,
                           entries: state.current.count + state.previous.count,
                           capacity: shard.generationCapacity * 2)
            }
        }
    }
}
