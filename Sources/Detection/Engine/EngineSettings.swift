/// How a ``DetectionEngine`` treats time and memory. Every parameter has a default.
public struct EngineSettings: Sendable, Hashable {
    /// How far (seconds of event time) an event may trail the latest event time
    /// seen and still count for threshold, dedup and aggregate state. Later
    /// events are counted (``EngineStatistics/lateEvents``) and evaluated by
    /// stateless rules only. Default 6 hours (a 7-hour backlog drained across
    /// partitions delivered events up to 3.2 hours out of order).
    public var allowedLateness: Int64
    /// Group keys tracked per rule; past it the keys with the oldest activity
    /// are evicted (``EngineStatistics/evictions``), a pending dedup summary
    /// is emitted first. Default 1,000,000.
    public var maxKeysPerRule: Int
    /// References to causing events carried by one alert (the earliest by
    /// event time, then origin); the rest are counted in `events_omitted`.
    public var maxEventReferences: Int
    /// Distinct values kept per `values()` / `dc()` statistic and group (as
    /// Splunk's `maxvalues`); past it values are counted, not kept.
    public var maxStatisticValues: Int

    /// How far (seconds) the event-time clock may run ahead of the wall clock the engine was
    /// last told (``DetectionEngine/observeWallClock(_:)``); nil: no limit (replays of old
    /// logs, tests). Without a limit one event stamped hours in the future would move the
    /// clock there, and every event after it would be later than the allowed lateness.
    public var maxClockLead: Int64?

    public init(allowedLateness: Int64 = 6 * 3600, maxKeysPerRule: Int = 1_000_000,
                maxEventReferences: Int = 10, maxStatisticValues: Int = 100, maxClockLead: Int64? = nil) {
        self.allowedLateness = max(0, allowedLateness)
        self.maxClockLead = maxClockLead.map { max(0, $0) }
        self.maxKeysPerRule = max(1, maxKeysPerRule)
        self.maxEventReferences = max(0, maxEventReferences)
        self.maxStatisticValues = max(1, maxStatisticValues)
    }

    /// How many of `count` tracked keys (over the cap `maxKeys`) an eviction
    /// evicts: enough to free a tenth of the cap, at least one.
    static func evictionCount(of count: Int, maxKeys: Int) -> Int {
        count - max(0, min(maxKeys - maxKeys / 10, count - 1))
    }
}
