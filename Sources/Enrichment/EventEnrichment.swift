import Foundation

/// What enrichment found for one event: the location of its primary source IP
/// and which of its source IPs were Tor exit nodes at the event's time, plus the
/// versions of the data that judged it (so an alert can say which data it used).
///
/// Computed once, at ingest (``Enricher``), and carried with the event to the
/// rules; rule tests and backtests build it directly (Panther's
/// `p_enrichment.tor_exit_nodes` becomes ``torExitIPs``).
public struct EventEnrichment: Sendable, Equatable {
    /// The location of the primary (first) source IP; nil when it has none
    /// (private, unknown, or no GeoIP database configured).
    public var geo: GeoLocation?
    /// The event's source IPs that were Tor exits at the event's time, in event order.
    public var torExitIPs: [String]
    /// The GeoIP database type (`GeoLite2-City`) and build epoch that answered.
    public var geoDatabaseType: String?
    public var geoBuildEpoch: UInt64?
    /// When the Tor list used was last confirmed (Unix seconds).
    public var torListTime: Int64?

    public init(geo: GeoLocation? = nil, torExitIPs: [String] = [], geoDatabaseType: String? = nil,
                geoBuildEpoch: UInt64? = nil, torListTime: Int64? = nil) {
        self.geo = geo
        self.torExitIPs = torExitIPs
        self.geoDatabaseType = geoDatabaseType
        self.geoBuildEpoch = geoBuildEpoch
        self.torListTime = torListTime
    }

    /// No location, no Tor exits, no data versions.
    public static let none = EventEnrichment()

    /// Whether `ip` (one of the event's source IPs) was a Tor exit at the event's time.
    /// Compared as addresses, so `::ffff:1.2.3.4` and `1.2.3.4` are the same.
    public func isTorExit(_ ip: String) -> Bool {
        if torExitIPs.isEmpty { return false }
        if torExitIPs.contains(ip) { return true }
        guard let address = IPAddress(ip)?.unmapped else { return false }
        return torExitIPs.contains { IPAddress($0)?.unmapped == address }
    }

}

/// The ingest-side enrichment step: GeoIP for the primary source IP (through the
/// locator's cache) and Tor membership of every source IP at the event's time.
/// Either part may be absent (no database, no Tor list configured).
public struct Enricher: Sendable {
    public let geo: GeoLocator?
    public let tor: TorExitList?

    public init(geo: GeoLocator?, tor: TorExitList?) {
        self.geo = geo
        self.tor = tor
    }

    /// Enriches one event from its source IPs (primary first) and event time;
    /// without a time, Tor membership is judged against the current list.
    public func enrich(sourceIPs: [String], at time: Date?) -> EventEnrichment {
        var out = EventEnrichment()
        if let geo {
            let snapshot = geo.snapshot
            out.geoDatabaseType = snapshot.metadata.databaseType
            out.geoBuildEpoch = snapshot.metadata.buildEpoch
            if let first = sourceIPs.first, let address = IPAddress(first) {
                out.geo = snapshot.lookup(address)
            }
        }
        if let tor, let list = tor.snapshot {
            out.torListTime = list.confirmedAt
            for ip in sourceIPs {
                guard let address = IPAddress(ip) else { continue }
                let exit = time.map { list.wasExit(address, at: $0) } ?? list.contains(address)
                if exit { out.torExitIPs.append(ip) }
            }
        }
        return out
    }
}
