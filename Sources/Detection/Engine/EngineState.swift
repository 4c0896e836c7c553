/// The state of one group key of one rule, for a compacted changelog: the
/// runtime writes entries keyed by (``ruleID``, ``key``) and restores them with
/// ``DetectionEngine/importState(_:)``.
public struct RuleStateEntry: Sendable, Hashable, Codable {
    public enum State: Sendable, Hashable, Codable {
        /// A threshold / dedup key: its pending matches and fired windows.
        case threshold(ThresholdKeyState)
        /// One group of one aggregate window.
        case aggregate(windowStart: Int64, group: AggregateGroupState)
    }

    public var ruleID: String
    /// The group key, in the engine's own text form (opaque; stable across versions of a rule).
    public var key: String
    public var state: State

    public init(ruleID: String, key: String, state: State) {
        self.ruleID = ruleID
        self.key = key
        self.state = state
    }
}

extension RuleStateEntry {
    /// The most matches or dropped values an entry may count: far above any real window, far
    /// below where counting one more overflows.
    static let maxCount = 1 << 48

    /// Whether every count is in `0...maxCount`. An entry comes back from a changelog that
    /// another version or a damaged record may have written: one counting near `Int.max`
    /// trapped at its next match, and its partition crashed at every restore.
    var hasPlausibleCounts: Bool {
        let plausible = 0...Self.maxCount
        switch state {
        case .threshold(let keyState):
            return keyState.fired.allSatisfy { plausible.contains($0.count) }
        case .aggregate(_, let group):
            return plausible.contains(group.count) && group.statistics.allSatisfy { statistic in
                guard case .distinct(_, let dropped) = statistic else { return true }
                return plausible.contains(dropped)
            }
        }
    }
}

/// Everything a ``DetectionEngine`` holds between events.
public struct EngineState: Sendable, Hashable, Codable {
    /// The engine's event time (nanoseconds since the epoch), nil before any event.
    public var eventTime: Int64?
    public var entries: [RuleStateEntry]

    public init(eventTime: Int64?, entries: [RuleStateEntry]) {
        self.eventTime = eventTime
        self.entries = entries
    }
}

extension DetectionEngine {
    /// The engine's state as plain values, one entry per tracked key (sorted by rule, key).
    public func exportState() -> EngineState {
        var entries: [RuleStateEntry] = []
        for evaluator in evaluators {
            let id = evaluator.rule.id
            if let store = evaluator.threshold {
                for (key, state) in store.keys.entries {
                    entries.append(RuleStateEntry(ruleID: id, key: key,
                                                  state: .threshold(store.exported(key: key, state))))
                }
            }
            if let store = evaluator.aggregate {
                for (start, groups) in store.windows {
                    for (key, group) in groups.entries {
                        entries.append(RuleStateEntry(ruleID: id, key: key,
                                                      state: .aggregate(windowStart: start,
                                                                        group: store.exported(key: key, group))))
                    }
                }
            }
        }
        entries.sort { ($0.ruleID, $0.key) < ($1.ruleID, $1.key) }
        return EngineState(eventTime: clock == .min ? nil : clock, entries: entries)
    }

    /// Restores state exported by ``exportState()`` (entries replace what the
    /// engine holds for the same rule and key). Entries of rules the engine does
    /// not have, of the wrong kind, or with a count out of range
    /// (``RuleStateEntry/hasPlausibleCounts``) are skipped and their count returned.
    @discardableResult
    public mutating func importState(_ state: EngineState) -> Int {
        if let time = state.eventTime {
            clock = max(clock, time)
            latest = max(latest, time)
        }
        nextDeadline = .min  // restored windows may end before the known deadline
        var skipped = 0
        var index: [String: Int] = [:]
        for (i, evaluator) in evaluators.enumerated() { index[evaluator.rule.id] = i }
        for entry in state.entries {
            guard let i = index[entry.ruleID], entry.hasPlausibleCounts else { skipped += 1; continue }
            switch entry.state {
            case .threshold(let keyState):
                guard evaluators[i].threshold != nil else { skipped += 1; continue }
                evaluators[i].threshold!.restore(key: entry.key, keyState)
            case .aggregate(let start, let group):
                guard evaluators[i].aggregate != nil else { skipped += 1; continue }
                evaluators[i].aggregate!.restore(key: entry.key, windowStart: start, group)
            }
        }
        return skipped
    }
}
