import Foundation

/// Recent addresses' answers in front of an ``Enricher``, for one worker that enriches
/// batches of events (an ingest worker): the same answers as ``Enricher/enrich(sourceIPs:at:)``,
/// for less per event.
///
/// ``begin()`` takes the current GeoIP and Tor snapshots once per batch (the enricher takes
/// each under its lock once per event); an address seen lately is then answered from a
/// direct-mapped table of a few thousand entries (an integer compare in a table that stays
/// in the core's cache) instead of a probe of the shared GeoIP cache (a lock, SipHash, a
/// dictionary of up to 100,000 entries: a cache miss more often than not) and of the Tor
/// set and history. An entry holds what does not depend on the event's time (the location,
/// whether the address is on the current list, its sightings), so answers at any time are
/// the enricher's. Answers of replaced snapshots (a GeoIP reload, a Tor refresh) are
/// forgotten at the next ``begin()``.
///
/// Not thread-safe: one per worker. Hits on the table count as GeoIP cache hits
/// (`vigil_geoip_lookups_total`) once ``end()`` hands them to the GeoIP cache.
public final class EnrichmentMemo {
    private struct Entry {
        var address: IPAddress = .v4(0)
        var filled = false
        var geoKnown = false
        var torKnown = false
        var onList = false
        var geo: GeoLocation?
        var sightings: [TorExitHistory.Interval] = []
    }

    public let enricher: Enricher
    /// The table (`mask + 1` entries), reached through a pointer: an array held by this class
    /// made each entry's access an exclusivity check and a uniqueness check (~10 % of enriching).
    private let entries: UnsafeMutablePointer<Entry>
    private let mask: Int
    private var geo: GeoLocator.Snapshot?
    private var geoType: String?
    private var geoEpoch: UInt64?
    private var tor: TorExitSnapshot?
    private var geoHits = 0

    /// `capacity`: table entries (rounded up to a power of two).
    public init(enricher: Enricher, capacity: Int = 16_384) {
        self.enricher = enricher
        var size = 1
        while size < max(capacity, 1) { size <<= 1 }
        entries = .allocate(capacity: size)
        entries.initialize(repeating: Entry(), count: size)
        mask = size - 1
    }

    deinit {
        entries.deinitialize(count: mask + 1)
        entries.deallocate()
    }

    /// Takes the current snapshots for the events that follow; answers remembered from
    /// snapshots since replaced are forgotten.
    public func begin() {
        let geo = enricher.geo?.snapshot
        let tor = enricher.tor?.snapshot
        if geo !== self.geo || tor !== self.tor {
            for i in 0...mask { entries[i] = Entry() }
        }
        self.geo = geo
        self.tor = tor
        geoType = geo?.metadata.databaseType
        geoEpoch = geo?.metadata.buildEpoch
    }

    /// Counts the table's GeoIP answers since the last call as hits of the GeoIP cache.
    public func end() {
        if geoHits > 0, let geo { geo.cache.countHits(geoHits) }
        geoHits = 0
    }

    /// What ``Enricher/enrich(sourceIPs:at:)`` answers, with the snapshots of the last ``begin()``.
    public func enrich(sourceIPs: [String], at time: Date?) -> EventEnrichment {
        // The class's properties read once (each access of one is an exclusivity check).
        let geo = self.geo, tor = self.tor
        var hits = 0
        defer { if hits > 0 { geoHits += hits } }
        var out = EventEnrichment()
        out.geoDatabaseType = geoType
        out.geoBuildEpoch = geoEpoch
        out.torListTime = tor?.confirmedAt
        let seconds = time.map(TorExitSnapshot.seconds)
        for (i, ip) in sourceIPs.enumerated() {
            if i > 0 && tor == nil { break }
            guard let address = IPAddress(ip) else { continue }
            let entry = entries + (Self.slot(of: address) & mask)
            if !entry.pointee.filled || entry.pointee.address != address {
                entry.pointee = Entry(address: address, filled: true)
            }
            if i == 0, let geo {
                if entry.pointee.geoKnown {
                    hits += 1
                } else {
                    entry.pointee.geo = geo.lookup(address)
                    entry.pointee.geoKnown = true
                }
                out.geo = entry.pointee.geo
            }
            if let tor {
                if !entry.pointee.torKnown {
                    let unmapped = address.unmapped
                    entry.pointee.onList = tor.addresses.contains(unmapped)
                    entry.pointee.sightings = tor.history.intervals[unmapped] ?? []
                    entry.pointee.torKnown = true
                }
                if tor.wasExit(onList: entry.pointee.onList, sightings: entry.pointee.sightings, at: seconds) {
                    out.torExitIPs.append(ip)
                }
            }
        }
        return out
    }

    @inline(__always)
    private static func slot(of address: IPAddress) -> Int { Int(truncatingIfNeeded: address.mixedBits >> 32) }
}

extension IPAddress {
    /// The address's bits folded and multiplied (Fibonacci hashing): the high bits pick a
    /// shard or a table slot.
    @inline(__always)
    var mixedBits: UInt64 {
        switch self {
        case .v4(let value): UInt64(value) &* 0x9E37_79B9_7F4A_7C15
        case .v6(let value): (UInt64(truncatingIfNeeded: value) ^ UInt64(truncatingIfNeeded: value >> 64)) &* 0x9E37_79B9_7F4A_7C15
        }
    }
}
