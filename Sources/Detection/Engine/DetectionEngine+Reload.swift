/// What a rule's state means: two versions of a rule with the same id and the same shape
/// can hand state over (``DetectionEngine/reloading(_:)``).
///
/// The shape is what the stored state depends on: the kind (stateless, threshold/dedup,
/// aggregate), the threshold count, the dedup period and group-by fields, the aggregate
/// window, group-by fields and statistics. Everything else (condition, log types, title,
/// severity, output, the dedup key template, `having`) may change and the state stays:
/// matches counted so far were matches of the rule then in force.
public struct RuleStateShape: Sendable, Hashable {
    let threshold: Int?
    let thresholdGroupBy: [FieldReference]
    let dedupPeriod: RuleDuration?
    let dedupGroupBy: [FieldReference]
    let aggregateWindow: RuleDuration?
    let aggregateGroupBy: [FieldReference]
    let statistics: [Rule.Statistic]

    init(_ rule: Rule) {
        threshold = rule.threshold?.count
        thresholdGroupBy = rule.threshold?.groupBy ?? []
        dedupPeriod = rule.dedup?.period
        dedupGroupBy = rule.dedup?.groupBy ?? []
        aggregateWindow = rule.aggregate?.window
        aggregateGroupBy = rule.aggregate?.groupBy ?? []
        statistics = rule.aggregate?.stats ?? []
    }
}

extension RuleStateShape {
    /// The shape as a short stable text (the same in every process and version, unlike
    /// `hashValue`): a changelog entry carries it, so a restart with a rule whose shape changed
    /// drops that rule's saved state as a hot reload does.
    public var fingerprint: String {
        func fields(_ list: [FieldReference]) -> String { list.map(\.description).joined(separator: ",") }
        let text = [
            "threshold \(threshold.map(String.init) ?? "-") by \(fields(thresholdGroupBy))",
            "dedup \(dedupPeriod.map { String($0.seconds) } ?? "-") by \(fields(dedupGroupBy))",
            "aggregate \(aggregateWindow.map { String($0.seconds) } ?? "-") by \(fields(aggregateGroupBy))",
            "stats " + statistics.map { "\($0.name)=\($0.function)" }.joined(separator: ","),
        ].joined(separator: "\u{0}")
        return SHA256.hex(text, bytes: 8)
    }
}

extension Rule {
    /// What this rule's state means (see ``RuleStateShape``).
    public var stateShape: RuleStateShape { RuleStateShape(self) }
}

/// What replacing one rule set with another does to the state of each rule
/// (``DetectionEngine/reloading(_:)``); disabled rules count as absent.
public struct RuleReloadEffect: Sendable, Hashable {
    /// Rules in both sets with the same shape: their state and counters carry over.
    public var kept: [String] = []
    /// Rules whose state shape changed: their state is dropped, they start empty.
    public var reset: [String] = []
    /// Rules no longer in the set (removed or disabled): their state is dropped.
    public var removed: [String] = []
    /// Rules new in the set.
    public var added: [String] = []

    public init(from old: [Rule], to new: [Rule]) {
        var before: [String: RuleStateShape] = [:]
        for rule in old where rule.enabled { before[rule.id] = rule.stateShape }
        for rule in new where rule.enabled {
            switch before.removeValue(forKey: rule.id) {
            case nil: added.append(rule.id)
            case rule.stateShape?: kept.append(rule.id)
            default: reset.append(rule.id)
            }
        }
        removed = before.keys.sorted()
    }
}

extension DetectionEngine {
    /// This engine with another rule set, its clock and counters kept: a rule whose id and
    /// ``RuleStateShape`` are unchanged keeps its state (windows, fired windows awaiting their
    /// summary, aggregate groups) and its counters, and alerts from then on with its new
    /// definition; a rule whose shape changed starts empty, as does a new one; a removed or
    /// disabled rule's state is dropped (no alert or summary comes from it).
    ///
    /// With `tracksChanges`, the changes the kept rules had not handed over yet carry over too;
    /// the entries of dropped rules are not reported by ``takeChanges()``: diff the whole state
    /// once after a reload (the runtime does).
    public func reloading(_ rules: [Rule], tracksChanges: Bool = false) -> DetectionEngine {
        var next = DetectionEngine(rules: rules, settings: settings, tracksChanges: tracksChanges)
        next.clock = clock
        next.latest = latest
        next.wallLimit = wallLimit
        next.inputLimit = inputLimit
        next.counters = counters
        var old: [String: RuleEvaluator] = [:]
        for evaluator in evaluators { old[evaluator.rule.id] = evaluator }
        for i in next.evaluators.indices {
            guard let previous = old[next.evaluators[i].rule.id],
                  previous.rule.stateShape == next.evaluators[i].rule.stateShape else { continue }
            next.evaluators[i].adoptState(of: previous)
        }
        next.nextDeadline = .min
        return next
    }
}

extension RuleEvaluator {
    /// Takes over the state and counters of the same rule's previous version (same shape).
    mutating func adoptState(of previous: RuleEvaluator) {
        stats = previous.stats
        if let store = previous.threshold, threshold != nil {
            threshold!.keys = store.keys
            threshold!.pending = store.pending
            threshold!.adoptDiffs(of: store)
            threshold!.nextSweep = store.nextSweep
            if let untaken = store.changed { threshold!.changed?.formUnion(untaken) }
        }
        if let store = previous.aggregate, aggregate != nil {
            aggregate!.windows = store.windows
            aggregate!.groupCount = store.groupCount
            aggregate!.nextClose = store.nextClose
            if let untaken = store.changed { aggregate!.changed?.formUnion(untaken) }
        }
    }
}
