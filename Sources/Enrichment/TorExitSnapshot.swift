import Foundation

/// One good Tor exit list and what came before it: immutable, swapped whole by
/// ``TorExitList`` on refresh, read without coordination.
public final class TorExitSnapshot: Sendable {
    /// The addresses of the last good list (IPv4-mapped stored as IPv4).
    public let addresses: Set<IPAddress>
    /// Sightings over the retention window, for event-time membership.
    public let history: TorExitHistory
    /// Where the list came from (URL or file path).
    public let source: String
    public let format: TorExitListFormat
    /// When the list was last confirmed current (a download, or a 304): its age runs from here.
    public let confirmedAt: Int64
    /// When the content of the list last changed.
    public let changedAt: Int64
    /// Validators for the next conditional GET.
    public let etag: String?
    public let lastModified: String?
    /// Seconds around a sighting during which the address counts as an exit.
    public let grace: Int64

    public init(addresses: Set<IPAddress>, history: TorExitHistory, source: String,
                format: TorExitListFormat, confirmedAt: Int64, changedAt: Int64,
                etag: String?, lastModified: String?, grace: Int64) {
        self.addresses = addresses
        self.history = history
        self.source = source
        self.format = format
        self.confirmedAt = confirmedAt
        self.changedAt = changedAt
        self.etag = etag
        self.lastModified = lastModified
        self.grace = grace
    }

    public var count: Int { addresses.count }

    /// Whether `address` is on the current list.
    @inline(__always)
    public func contains(_ address: IPAddress) -> Bool {
        addresses.contains(address.unmapped)
    }

    /// Whether `address` was a Tor exit at `time`: on the current list and
    /// `time` is no earlier than the list's own period (a live event), or seen
    /// in the history within ``grace`` of `time` (a late or replayed event).
    /// Times older than the retention window answer false.
    public func wasExit(_ address: IPAddress, at time: Date) -> Bool {
        let seconds = Self.seconds(time)
        let address = address.unmapped
        if isLive(seconds), addresses.contains(address) { return true }
        return history.contains(address, at: seconds, grace: grace)
    }

    /// The judgment of ``wasExit(_:at:)`` (``contains(_:)`` when `seconds` is nil) from what
    /// does not depend on the time: whether the address is on the current list and its
    /// sightings (for a caller that kept them, ``EnrichmentMemo``).
    func wasExit(onList: Bool, sightings: [TorExitHistory.Interval], at seconds: Int64?) -> Bool {
        guard let seconds else { return onList }
        return (isLive(seconds) && onList) || TorExitHistory.covers(sightings, seconds, grace: grace)
    }

    /// Whether an event at `seconds` is judged by the current list (no earlier than its period).
    @inline(__always)
    private func isLive(_ seconds: Int64) -> Bool { seconds >= changedAt - grace }

    /// An event time as the whole seconds the list's times are in.
    static func seconds(_ time: Date) -> Int64 { Int64(time.timeIntervalSince1970.rounded(.down)) }

    /// Seconds since the list was last confirmed current.
    public func age(now: Date) -> TimeInterval {
        now.timeIntervalSince1970 - TimeInterval(confirmedAt)
    }

    /// A copy confirmed current at `time` (after a 304 or an unchanged file).
    func confirmed(at time: Int64, history: TorExitHistory) -> TorExitSnapshot {
        TorExitSnapshot(addresses: addresses, history: history, source: source, format: format,
                        confirmedAt: time, changedAt: changedAt, etag: etag,
                        lastModified: lastModified, grace: grace)
    }
}
