import Foundation

/// The last good Tor exit list and the refresher's last outcome, as saved to
/// disk (JSON, written by atomic rename) so a restart without network still has
/// a list, and `vigil tor status` can report on a running instance.
public struct TorExitState: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public var version = TorExitState.currentVersion
    public var source: String
    public var format: TorExitListFormat
    public var confirmedAt: Int64
    public var changedAt: Int64
    public var etag: String?
    public var lastModified: String?
    public var addresses: [String]
    /// address → [[start, end], ...] in seconds since 1970.
    public var history: [String: [[Int64]]]
    /// The last refresh attempt and its error, if it failed.
    public var lastAttempt: Int64?
    public var lastError: String?

    public init(snapshot: TorExitSnapshot, lastAttempt: Int64?, lastError: String?) {
        source = snapshot.source
        format = snapshot.format
        confirmedAt = snapshot.confirmedAt
        changedAt = snapshot.changedAt
        etag = snapshot.etag
        lastModified = snapshot.lastModified
        addresses = snapshot.addresses.sorted().map(\.description)
        history = Dictionary(uniqueKeysWithValues: snapshot.history.intervals.map { address, list in
            (address.description, list.map { [$0.start, $0.end] })
        })
        self.lastAttempt = lastAttempt
        self.lastError = lastError
    }

    /// Times a state may hold, in seconds since 1970: up to the end of year 9999. Ages and
    /// grace periods are worked out from them, so one near the ends of Int64 overflowed.
    static let plausibleTimes: ClosedRange<Int64> = 0...253_402_300_799

    /// Throws when a time of the state lies outside ``plausibleTimes`` (``load(from:)``
    /// checks every state it reads; ``snapshot(grace:)`` checks the history's intervals).
    func checkTimes() throws(EnrichmentError) {
        let times = [confirmedAt, changedAt] + (lastAttempt.map { [$0] } ?? [])
        if let bad = times.first(where: { !Self.plausibleTimes.contains($0) }) {
            throw EnrichmentError(.invalidState, "time \(bad) is not a time in seconds since 1970 up to year 9999")
        }
    }

    /// The snapshot this state describes; throws when an address, interval or time is malformed.
    public func snapshot(grace: Int64) throws(EnrichmentError) -> TorExitSnapshot {
        guard version == Self.currentVersion else {
            throw EnrichmentError(.invalidState, "state version \(version), expected \(Self.currentVersion)")
        }
        var set = Set<IPAddress>()
        for text in addresses {
            guard let address = IPAddress(text) else {
                throw EnrichmentError(.invalidState, "'\(text.prefix(64))' is not an address")
            }
            set.insert(address)
        }
        var intervals: [IPAddress: [TorExitHistory.Interval]] = [:]
        for (text, list) in history {
            guard let address = IPAddress(text) else {
                throw EnrichmentError(.invalidState, "'\(text.prefix(64))' is not an address")
            }
            var converted: [TorExitHistory.Interval] = []
            for pair in list {
                guard pair.count == 2, pair[0] <= pair[1], Self.plausibleTimes.contains(pair[0]),
                      Self.plausibleTimes.contains(pair[1]) else {
                    throw EnrichmentError(.invalidState, "bad interval for \(text)")
                }
                converted.append(.init(start: pair[0], end: pair[1]))
            }
            intervals[address] = converted
        }
        guard !set.isEmpty else { throw EnrichmentError(.invalidState, "state holds no addresses") }
        return TorExitSnapshot(addresses: set, history: TorExitHistory(intervals: intervals), source: source,
                               format: format, confirmedAt: confirmedAt, changedAt: changedAt, etag: etag,
                               lastModified: lastModified, grace: grace)
    }

    /// Reads a state file; nil when there is none.
    public static func load(from path: String) throws(EnrichmentError) -> TorExitState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let state = try JSONDecoder().decode(TorExitState.self, from: data)
            try state.checkTimes()
            return state
        } catch let error as EnrichmentError {
            throw EnrichmentError(.invalidState, "\(path): \(error.detail)")
        } catch {
            throw EnrichmentError(.invalidState, "\(path): \(error)")
        }
    }

    /// Writes the state next to `path` and renames it into place.
    public func save(to path: String) throws(EnrichmentError) {
        do {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw EnrichmentError(.fileFailed, "\(path): \(error)")
        }
    }
}
