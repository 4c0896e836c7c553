/// When each address was seen as a Tor exit, over a retention window: the
/// answer to "was this IP an exit at time T" for late or replayed events.
///
/// Observations of one address closer together than `mergeGap` join into one
/// interval, so an address listed at every hourly refresh is one interval from
/// its first to its last sighting. Immutable: merging returns a new history.
public struct TorExitHistory: Sendable, Hashable {
    /// A closed span of seconds since 1970 (UTC).
    public struct Interval: Sendable, Hashable, Codable {
        public var start: Int64
        public var end: Int64
    }

    public private(set) var intervals: [IPAddress: [Interval]]

    public init(intervals: [IPAddress: [Interval]] = [:]) {
        self.intervals = intervals
    }

    /// How many addresses have at least one interval.
    public var addressCount: Int { intervals.count }

    /// This history plus `observations`, with intervals closer than `mergeGap`
    /// joined and everything that ended more than `retention` before the newest
    /// sighting held (never later than `now`) dropped.
    ///
    /// Retention counts back from the newest sighting, not from the wall clock: it
    /// bounds memory the same way on a live list (whose newest sighting is about now),
    /// while a list that stopped refreshing, or a historical snapshot loaded later,
    /// keeps its last `retention` of sightings instead of forgetting them all.
    public func merging(_ observations: [TorExitObservation], mergeGap: Int64,
                        retention: Int64, now: Int64) -> TorExitHistory {
        var intervals = self.intervals
        var touched: Set<IPAddress> = []
        let newestHeld = intervals.values.lazy.compactMap { $0.last?.end }.max() ?? Int64.min
        let newestSeen = observations.lazy.map(\.seen).max() ?? Int64.min
        let reference = min(now, max(newestHeld, newestSeen))
        let cutoff = reference == Int64.min ? now - retention : reference - retention
        for observation in observations where observation.seen >= cutoff {
            let point = Interval(start: observation.seen, end: observation.seen)
            if var list = intervals[observation.address], let last = list.last,
               observation.seen >= last.start, observation.seen <= last.end + mergeGap {
                list[list.count - 1].end = max(last.end, observation.seen)
                intervals[observation.address] = list
            } else {
                intervals[observation.address, default: []].append(point)
                touched.insert(observation.address)
            }
        }
        // Out-of-order points (rare: older timestamps) need sorting and joining.
        for address in touched {
            guard let list = intervals[address], list.count > 1 else { continue }
            intervals[address] = Self.coalesce(list, gap: mergeGap)
        }
        for (address, list) in intervals where list.contains(where: { $0.end < cutoff }) {
            let kept = list.filter { $0.end >= cutoff }
            intervals[address] = kept.isEmpty ? nil : kept
        }
        return TorExitHistory(intervals: intervals)
    }

    /// Whether `address` was seen as an exit within `grace` seconds of `time`.
    public func contains(_ address: IPAddress, at time: Int64, grace: Int64) -> Bool {
        guard let list = intervals[address.unmapped] else { return false }
        return Self.covers(list, time, grace: grace)
    }

    /// Whether one of an address's sightings lies within `grace` of `time`.
    static func covers(_ sightings: [Interval], _ time: Int64, grace: Int64) -> Bool {
        sightings.contains { time >= $0.start - grace && time <= $0.end + grace }
    }

    static func coalesce(_ list: [Interval], gap: Int64) -> [Interval] {
        let sorted = list.sorted { $0.start < $1.start }
        var result: [Interval] = []
        result.reserveCapacity(sorted.count)
        for interval in sorted {
            if let last = result.last, interval.start <= last.end + gap {
                result[result.count - 1].end = max(last.end, interval.end)
            } else {
                result.append(interval)
            }
        }
        return result
    }
}
