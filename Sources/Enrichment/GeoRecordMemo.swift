import Synchronization

/// Decoded records by their offset in the database's data section.
///
/// MMDB files store each distinct record once and point every network that
/// shares it (a city, a country) at that one copy, so a few hundred thousand
/// records serve millions of networks. Remembering the decoded record per
/// offset turns most IP-cache misses into a tree walk plus one probe here,
/// instead of twenty `MMDB_aget_value` calls. Bounded: a full shard is emptied.
final class GeoRecordMemo: Sendable {
    private final class Shard: Sendable {
        let records = Mutex<[UInt32: GeoLocation?]>([:])
    }

    private let shards: [Shard] = (0..<16).map { _ in Shard() }
    private let shardCapacity: Int

    init(capacity: Int) {
        shardCapacity = max(1, capacity / 16)
    }

    /// The record at `offset`, decoding it with `decode` the first time.
    @inline(__always)
    func record(at offset: UInt32, decode: () -> GeoLocation?) -> GeoLocation? {
        let shard = shards[Int(truncatingIfNeeded: (offset &* 0x9E37_79B1) >> 28)]
        if let known = shard.records.withLock({ $0[offset] }) { return known }
        let decoded = decode()
        shard.records.withLock { records in
            if records.count >= shardCapacity { records.removeAll(keepingCapacity: true) }
            records[offset] = .some(decoded)
        }
        return decoded
    }
}
