/// One statistic of one aggregate group, as accumulated so far.
public enum StatisticState: Sendable, Hashable, Codable {
    case count
    /// `values()` / `dc()`: distinct values as text (SPL treats them as
    /// strings), kept sorted as SPL sorts them (UTF-8 bytes), at most
    /// ``EngineSettings/maxStatisticValues``; `dropped` counts distinct
    /// values seen past the cap (repeats included: `dc` is then an upper
    /// bound). (A sorted array, not a set: a group holds few
    /// values, and an array of one costs a fraction of a set.)
    case distinct([String], dropped: Int)
    /// `min()` / `max()`: the extreme so far.
    case extreme(FieldValue?)
}

/// One group of an aggregate window: the group-by values and what is known of
/// its matches so far. A plain value (see ``DetectionEngine/exportState()``).
public struct AggregateGroupState: Sendable, Hashable, Codable {
    /// Values of the group-by fields, in rule order.
    public var groupValues: [FieldValue]
    public var count: Int
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// One per statistic of the rule, in rule order.
    public var statistics: [StatisticState]
    /// The earliest matches (capped).
    public var matches: [MatchReference]
    /// The source IP and data versions of the earliest match (the alert's
    /// `source` and `data_versions`: a choice that does not depend on arrival order).
    public var source: Alert.Source?
    public var dataVersions: Alert.DataVersions?
    /// The match `source` came from.
    public var representative: MatchReference?
}
