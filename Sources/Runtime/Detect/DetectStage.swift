import Detection
import KafkaIO
import Logging
import Metrics
import Synchronization

/// Stage 2: reads the repartition topic in the detect group, hands each record to one of N
/// workers by key hash (a key's records stay in order), evaluates the rules on event time
/// (one engine per assigned partition and worker), and produces alerts to the alerts topic
/// keyed by rule and group key.
///
/// At-least-once for what a record completes: a repartition record is marked done once the
/// alerts it produced and the changelog records of the state it changed are acknowledged.
/// Rule state (open windows, dedup periods, aggregates, the event-time clock) is restored from
/// the compacted changelog when a partition is assigned, before its records are processed, so
/// it survives restarts and moves with a partition on a rebalance.
/// Partitions idle for `limits.idle_advance` move their event time forward with the wall
/// clock, so windows of quiet keys still close.
public final class DetectStage: Sendable {
    public let topology: Topology
    private let logger: Logger
    private let shared = DetectShared()
    private let tracker = OffsetTracker()
    private let monitor = BackPressureMonitor(stage: "detect")
    /// The workers, once the stage made them (for statistics).
    private let workers = Reference<[DetectWorker]>([])
    /// The rule set in force, the folder's signature it was loaded from, and the processor
    /// once running: one lock, so a reload and the making of the workers cannot miss each other.
    private let live: Mutex<(rules: [Rule], signature: RuleFolder.Signature?, processor: DetectProcessor?)>
    private let folder: RuleFolder
    /// Reloads one at a time, in order (a poll and a SIGHUP may meet).
    private let reloads = Serial()
    private let loadedGauge = Gauge(label: "vigil_rules_loaded")
    private let metrics: DetectMetrics
    /// Where the stage is (for `/ready` and `/health`).
    public let status: StageStatus

    /// Makes the stage's metrics: call after the metrics backend is bootstrapped.
    public init(topology: Topology, rules: [Rule], logger: Logger) {
        self.topology = topology
        self.logger = logger
        folder = RuleFolder(directory: topology.rulesDirectory)
        live = Mutex((rules, folder.signature(), nil))
        loadedGauge.record(rules.filter(\.enabled).count)
        metrics = DetectMetrics(repartitionTopic: topology.topics.repartition.name, rules: rules)
        status = StageStatus(name: "detect", stuckAfter: topology.kafka.maxPollInterval)
    }

    /// The rule set in force.
    public var rules: [Rule] { live.withLock { $0.rules } }

    /// What the stage's bounds did: queue depth, paused partitions, pauses by reason.
    public var backPressure: BackPressureStatistics { monitor.statistics }

    public var statistics: DetectStatistics { shared.statistics }

    /// Engine counters over every worker and partition now held.
    public var engineStatistics: EngineStatistics {
        var total = EngineStatistics()
        for worker in workers.get() { total.add(worker.statistics) }
        return total
    }

    /// Brings the gauges and counters kept inside the engines (matches, state keys,
    /// late events) up to date; `/metrics` calls it before each scrape.
    public func sampleMetrics() {
        var total = EngineStatistics()
        for worker in workers.get() { total.add(worker.cumulativeStatistics) }
        metrics.sample(total)
    }

    /// Creates Vigil's topics when missing (if the topology says so), then consumes until the
    /// calling task is cancelled, then shuts down as the ingest stage does. Checks the rules
    /// folder every `rules.reload_check` meanwhile (``reloadRules(force:)``).
    public func run() async throws(RuntimeError) {
        try await status.track { () async throws(RuntimeError) in try await runStage() }
    }

    private func runStage() async throws(RuntimeError) {
        let t = topology
        if t.topics.create { try await TopicSetup.ensure(t, logger: logger) }
        var loop = StageLoop(stage: .detect, topology: t,
                             topics: [t.topics.repartition.name], tracker: tracker, logger: logger, status: status,
                             failure: { [shared] in shared.failure }, recover: { [shared] in shared.recover() }, monitor: monitor)
        loop.tickInterval = min(.seconds(1), t.limits.idleAdvance)
        let watch = t.rulesReloadCheck > .zero ? Task.detached { [self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: t.rulesReloadCheck) } catch { return }
                await reloadRules(force: false)
            }
        } : nil
        defer {
            watch?.cancel()
            live.withLock { $0.processor = nil }
        }
        try await loop.run { [tracker, shared, workers, logger, metrics] (consumer, producer) throws(RuntimeError) in
            // Under the lock: a reload either lands before (these workers get its rules) or
            // after (it finds the processor and swaps them in).
            try self.live.withLock { (s) throws(RuntimeError) -> DetectProcessor in
                var made: [DetectWorker] = []
                for index in 0..<t.workers.detect {
                    made.append(try DetectWorker(topology: t, rules: s.rules, shared: shared, metrics: metrics, index: index))
                }
                workers.set(made)
                let processor = DetectProcessor(
                    workers: made, alertsTopic: t.topics.alerts.name, deadLetterTopic: t.topics.deadLetter.name,
                    changelogTopic: t.topics.changelog.name, repartitionTopic: t.topics.repartition.name,
                    client: t.clientSettings,
                    restoreTimeout: t.kafka.maxPollInterval / 2, changelogInterval: t.kafka.commitInterval,
                    logger: logger, producer: producer, consumer: consumer, tracker: tracker, shared: shared,
                    metrics: metrics)
                s.processor = processor
                return processor
            }
        }
    }

    /// Reloads the rules folder: with `force` (SIGHUP) always, otherwise only when a rule file
    /// was added, removed or changed since the last load. The new set is checked whole first
    /// (the checks of `vigil rules validate`); a set with any problem is refused, every problem
    /// logged with file:line:column and counted (`vigil_rules_reloads_total{outcome="refused"}`),
    /// and the rules in force keep running. A sound set is swapped into every worker between
    /// batches (``DetectionEngine/reloading(_:)`` says what happens to each rule's state).
    @discardableResult
    public func reloadRules(force: Bool = true) async -> RuleReloadOutcome {
        var outcome = RuleReloadOutcome.unchanged
        try? await reloads.run { () async throws(RuntimeError) in outcome = await reloadAlone(force: force) }
        return outcome
    }

    private func reloadAlone(force: Bool) async -> RuleReloadOutcome {
        guard let (signature, loaded) = folder.reload(since: live.withLock({ $0.signature }), force: force) else {
            return .unchanged
        }
        guard loaded.problems.isEmpty else {
            // Not retried until a file changes again (or SIGHUP).
            live.withLock { $0.signature = signature }
            shared.update { $0.rulesRefused += 1 }
            Counter(label: "vigil_rules_reloads_total", dimensions: [("outcome", "refused")]).increment()
            logger.error("rules: new rule set refused; the rules in force keep running",
                         metadata: ["folder": "\(folder.directory)", "problems": "\(loaded.problems.count)"])
            for problem in loaded.problems {
                logger.error("rules: \(problem.file):\(problem.line):\(problem.column): \(problem.detail)")
            }
            return .refused(loaded.problems)
        }
        let (old, processor) = live.withLock { s in
            defer { s.rules = loaded.rules; s.signature = signature }
            return (s.rules, s.processor)
        }
        await processor?.reload(loaded.rules)
        let effect = RuleReloadEffect(from: old, to: loaded.rules)
        shared.update { $0.rulesReloaded += 1 }
        Counter(label: "vigil_rules_reloads_total", dimensions: [("outcome", "reloaded")]).increment()
        loadedGauge.record(loaded.rules.filter(\.enabled).count)
        logger.notice("rules: reloaded", metadata: [
            "folder": "\(folder.directory)", "rules": "\(loaded.rules.filter(\.enabled).count)",
            "added": "\(effect.added)", "removed": "\(effect.removed)", "reset": "\(effect.reset)",
            "kept": "\(effect.kept.count)"])
        return .reloaded(effect)
    }
}

/// What a rule reload did.
public enum RuleReloadOutcome: Sendable, Equatable {
    /// No rule file changed (a check, not a SIGHUP).
    case unchanged
    /// The new set runs; what happened to each rule's state.
    case reloaded(RuleReloadEffect)
    /// The new set has problems (every one, file:line:column); the old set keeps running.
    case refused([RuleProblem])
}
