extension RuleStateEntry {
    /// Which entry this is, without its state: a rule's threshold / dedup key, or one group
    /// of one aggregate window (the same group key in two windows is two entries).
    /// Ordered by rule, key, then window start (none first): the order diffs are written in.
    public struct ID: Sendable, Hashable, Comparable {
        public var ruleID: String
        public var key: String
        /// The aggregate window's start (nanoseconds); nil for a threshold / dedup key.
        public var windowStart: Int64?

        public init(ruleID: String, key: String, windowStart: Int64? = nil) {
            self.ruleID = ruleID
            self.key = key
            self.windowStart = windowStart
        }

        public static func < (a: ID, b: ID) -> Bool {
            (a.ruleID, a.key, a.windowStart ?? .min) < (b.ruleID, b.key, b.windowStart ?? .min)
        }
    }

    public var id: ID {
        switch state {
        case .threshold: ID(ruleID: ruleID, key: key)
        case .aggregate(let start, _): ID(ruleID: ruleID, key: key, windowStart: start)
        }
    }
}

/// What changed in a ``DetectionEngine``'s state since the last ``DetectionEngine/takeChanges()``
/// (or since it was made; imported entries are not changes): applied to the entries exported or taken before, it gives
/// ``DetectionEngine/exportState()`` — at a cost that follows the change, not the state.
public struct EngineChanges: Sendable {
    /// The engine's event time now (nanoseconds since the epoch), nil before any event.
    public var eventTime: Int64?
    /// Entries created or changed since, with their state now (sorted by rule, key). An entry
    /// touched but left equal is listed too: whoever keeps a copy compares.
    public var changed: [RuleStateEntry] = []
    /// Entries that ended since (window closed, dedup period over, expired, evicted) and were not
    /// made again; some may have been created after the last take and never seen.
    public var ended: [RuleStateEntry.ID] = []
}

extension DetectionEngine {
    /// The entries changed or ended since the last call (or since the engine was made; entries
    /// put back by ``importState(_:)`` count as already saved), and the event time; starts a
    /// new round of tracking. Needs an engine
    /// made with `tracksChanges: true` (otherwise nothing is tracked and this is empty).
    public mutating func takeChanges() -> EngineChanges {
        var out = EngineChanges(eventTime: clock == .min ? nil : clock)
        for i in evaluators.indices {
            let id = evaluators[i].rule.id
            evaluators[i].threshold?.takeChanges(ruleID: id, into: &out)
            evaluators[i].aggregate?.takeChanges(ruleID: id, into: &out)
        }
        out.changed.sort { $0.id < $1.id }
        return out
    }
}

extension ThresholdStore {
    /// Moves the keys touched since the last call into `changes`.
    mutating func takeChanges(ruleID: String, into changes: inout EngineChanges) {
        guard let touched = changed, !touched.isEmpty else { return }
        changed = []
        for key in touched {
            if let state = keys[key] {
                changes.changed.append(RuleStateEntry(ruleID: ruleID, key: key,
                                                      state: .threshold(exported(key: key, state))))
            } else {
                changes.ended.append(RuleStateEntry.ID(ruleID: ruleID, key: key))
            }
        }
    }
}

extension AggregateStore {
    /// One group of one window: what ``changed`` tracks.
    struct Slot: Hashable {
        var start: Int64
        var key: String
    }

    /// Moves the groups touched since the last call into `changes`.
    mutating func takeChanges(ruleID: String, into changes: inout EngineChanges) {
        guard let touched = changed, !touched.isEmpty else { return }
        changed = []
        for slot in touched {
            if let group = windows[slot.start]?[slot.key] {
                changes.changed.append(RuleStateEntry(ruleID: ruleID, key: slot.key,
                                                      state: .aggregate(windowStart: slot.start,
                                                                        group: exported(key: slot.key, group))))
            } else {
                changes.ended.append(RuleStateEntry.ID(ruleID: ruleID, key: slot.key, windowStart: slot.start))
            }
        }
    }
}
