/// Counters of a ``DetectionEngine`` (for metrics and the replay summary).
public struct EngineStatistics: Sendable, Hashable {
    /// Events processed.
    public var events: Int = 0
    /// Events later than the allowed lateness: evaluated by stateless rules
    /// only; their matches of stateful rules are counted in ``lateMatches``.
    public var lateEvents: Int = 0
    /// Events stamped later than the engine's clock limit (the wall clock plus
    /// ``EngineSettings/maxClockLead``): evaluated at their own time, but the clock stopped
    /// at the limit.
    public var futureEvents: Int = 0
    /// Events without an event time: they take the engine's current event time.
    public var untimedEvents: Int = 0
    /// Per rule id: statistics of that rule.
    public var rules: [String: RuleStatistics] = [:]

    public init() {}

    /// Totals over all rules.
    public var alerts: Int { rules.values.reduce(0) { $0 + $1.alerts } }
    public var evictions: Int { rules.values.reduce(0) { $0 + $1.evictions } }
}

/// Counters of one rule in a ``DetectionEngine``.
public struct RuleStatistics: Sendable, Hashable {
    /// Events the condition matched (late ones included).
    public var matches: Int = 0
    /// Matches of a stateful rule that came later than the allowed lateness (not in any window).
    public var lateMatches: Int = 0
    /// Matches of an aggregate rule dropped because a group-by field was missing (SPL `by`).
    public var missingGroupBy: Int = 0
    /// Alerts raised (kind `alert`).
    public var alerts: Int = 0
    /// Dedup summaries emitted.
    public var summaries: Int = 0
    /// Group keys evicted because the key cap was reached.
    public var evictions: Int = 0
    /// Group keys tracked now.
    public var keys: Int = 0
    /// Values not kept because a `values()` / `dc()` statistic reached its cap.
    public var truncatedValues: Int = 0

    public init() {}
}
