import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import Metrics
import Synchronization

/// One detect worker: the rule engines of the keys hashed to it, one engine per assigned
/// partition (so a partition's state is saved, restored and dropped on its own), and a
/// decoder for repartition records.
///
/// Evaluation runs under the worker's lock (batches and idle ticks never overlap on an
/// engine); the ``DetectProcessor`` produces the alerts afterwards, in batch order. Each
/// evaluation also returns the changelog records that bring the partition's saved state up
/// to date with its engine (``ChangelogRecord``): changed entries, tombstones for ended
/// ones, the event-time clock.
final class DetectWorker: Sendable {
    private struct Partition {
        var engine: DetectionEngine
        /// When (wall clock) the partition last had a record: idle advance.
        var lastActivity: ContinuousClock.Instant
        /// The changelog as this worker last wrote (or restored) it: key → hash of the value
        /// (the `ChangelogRecord.Entry` / `.Clock`, not its bytes) and the entry's route.
        var written: [String: ChangelogRecord.Written] = [:]
        /// Entries changed or ended since the last diff (taken from the engine whenever the route
        /// changes between events, so each is known with the route of the record that first
        /// touched it since): the
        /// state now (nil: ended) and that route.
        var touched: [RuleStateEntry.ID: (entry: RuleStateEntry?, route: UInt64?)] = [:]
        /// The engine's event time (nanoseconds) when its changes were last taken.
        var eventTime: Int64?
        /// The route of the events whose changes the engine still holds (not yet taken): they
        /// are taken when an event of another route comes, or before a diff or an idle advance
        /// (a reload carries them into the new engine), so a run of one key's events (a hot key, an attack) exports its entries once,
        /// not once per event.
        var untakenRoute: UInt64?
        /// After a restore, until the first diff: the routes the restored entries were written with.
        var restoredRoutes: [RuleStateEntry.ID: UInt64] = [:]
        /// Changed since the last diff.
        var dirty = false
        /// The next diff compares the whole state with `written`, not only the engine's changed
        /// entries: after a restore whose records the engine did not take as they were (another
        /// worker count, entries of rules no longer loaded, unreadable records).
        var wholeDiff = false
        /// The highest offset of this partition the engine applied (-1: none), and per raw
        /// partition the highest raw position: written with the clock, so a restored state
        /// says what it already holds.
        var applied: Int64 = -1
        var sources: [ChangelogRecord.RawPartition: ChangelogRecord.RawPosition] = [:]
        /// After a restore: records at or below this offset are in the restored state already
        /// (read again because the state was written before their offsets were committed).
        var skipThrough: Int64 = -1
        /// After a restore under another worker count: what the old workers' states held, per
        /// old worker (``ChangelogRecord/Legacy``); nil once passed.
        var legacy: ChangelogRecord.Legacy?
        /// The highest offset of this partition the worker saw (applied or skipped).
        var seen: Int64 = -1
        /// Per raw partition whose events reach this one: its latest event time and when (wall
        /// clock) it last sent one. The engine's clock keeps the pace of the slowest that sent
        /// within `limits.idle_advance` (``startBatch(now:wall:idleAfter:)``).
        var inputs: [ChangelogRecord.RawPartition: Input] = [:]
        /// When this partition's first event came (nil before).
        var firstActivity: ContinuousClock.Instant?

        struct Input {
            var latest: EventTime
            var at: ContinuousClock.Instant

            mutating func saw(_ time: EventTime, at now: ContinuousClock.Instant) {
                latest = max(latest, time)
                at = now
            }
        }

        /// Before a batch: tells the engine the wall clock, and holds its clock at the latest
        /// event time of the slowest raw partition that sent within `idleAfter`, so that a raw
        /// partition read ahead of the others (a backlog is drained a partition's chunk at a
        /// time: tens of minutes of event time each) does not make their events late; released
        /// when none sent. For the first `idleAfter` after the first event the clock is not
        /// moved at all: the raw partitions show up first.
        mutating func startBatch(now: ContinuousClock.Instant, wall: Date, idleAfter: Duration) {
            engine.observeWallClock(wall)
            guard let first = firstActivity else { return }
            if now - first < idleAfter { return }  // held where the first event found it
            var slowest: EventTime?
            for input in inputs.values where now - input.at < idleAfter {
                slowest = min(slowest ?? input.latest, input.latest)
            }
            engine.holdClock(at: slowest)
        }

        /// Whether the engine already holds this record's event: its offset is within the
        /// restored state's, or its raw event was applied before (ingest produced it twice:
        /// a crash after producing, before committing). A raw partition's events reach a
        /// repartition partition in raw order (Runtime README, "Idempotent state").
        func holds(_ position: ChangelogRecord.RawPosition, from source: ChangelogRecord.RawPartition, offset: Int64,
                   route: UInt64) -> Bool {
            if offset <= skipThrough { return true }
            if let mine = sources[source], position <= mine { return true }
            return legacy?.holds(position, from: source, offset: offset, route: route) ?? false
        }

        /// A gap notice: the raw partition's events from the notice's offset on may be missing
        /// here, so the ones produced again are applied, not taken for copies.
        /// A notice the restored state already took (at or below `skipThrough`) is not taken again.
        mutating func reopen(_ gap: RepartitionGap, offset: Int64) {
            guard offset > skipThrough else { return }
            let below = ChangelogRecord.RawPosition(offset: gap.offset - 1, index: Int.max)
            if let seen = sources[gap.source], seen > below {
                sources[gap.source] = below
                dirty = true
            }
            if legacy != nil {
                legacy?.reopen(gap.source, below: below, offset: offset)
                dirty = true
            }
        }

        /// The alerts the event completes; nil when the engine already holds it (skipped).
        /// `route`: the record's routing hash (``DetectProcessor/route(_:_:)``), kept with the
        /// entries the event makes.
        /// `wall`: the wall clock of the batch, for a partition new in it (the others were told
        /// in ``startBatch(now:wall:idleAfter:)``).
        mutating func process(_ e: RepartitionedEvent, offset: Int64, route: UInt64, at now: ContinuousClock.Instant,
                              wall: Date) -> [Alert]? {
            lastActivity = now
            if offset > skipThrough { skipThrough = -1 }
            seen = max(seen, offset)
            let source = ChangelogRecord.RawPartition(topic: e.origin.topic, partition: e.origin.partition)
            let position = ChangelogRecord.RawPosition(e.origin)
            if holds(position, from: source, offset: offset, route: route) { return nil }
            let origin = EventOrigin.kafka(topic: e.origin.topic, partition: e.origin.partition, offset: e.origin.offset)
            if let untaken = untakenRoute, untaken != route { takeChanges(route: untaken) }
            if firstActivity == nil {  // held in its first batch too
                firstActivity = now
                engine.observeWallClock(wall)
                engine.holdClockWhereItIs()
            }
            let alerts = engine.process(e.event, enrichment: e.enrichment, origin: origin)
            untakenRoute = route
            applied = max(applied, offset)
            sources[source] = position
            if let time = e.event.time { inputs[source, default: Input(latest: time, at: now)].saw(time, at: now) }
            dirty = true
            return alerts
        }

        /// Idle for `idleAfter`: moves event time forward by the wall-clock time idle (from the
        /// last event time, not to now) and marks the partition for the next diff.
        mutating func advanceIfIdle(now: ContinuousClock.Instant, wall: Date, after idleAfter: Duration) -> [Alert] {
            guard let last = engine.latestEventTime?.date, now - lastActivity >= idleAfter else { return [] }
            engine.observeWallClock(wall)
            engine.holdClock(at: nil)  // no raw partition sent within idleAfter
            let idle = now - lastActivity
            let seconds = Double(idle.components.seconds) + Double(idle.components.attoseconds) / 1e18
            dirty = true
            takeChanges(route: untakenRoute)
            let alerts = engine.advance(to: last.addingTimeInterval(seconds))
            takeChanges(route: nil)
            return alerts
        }

        /// Moves the engine's changes into `touched`. An entry first touched since the last diff
        /// keeps the route of that touch: a record's own match makes an entry, so an entry new
        /// since is known with the route of the record that made it (a window closed by another
        /// record's time touches only entries already made; their route is in `written`).
        mutating func takeChanges(route: UInt64?) {
            untakenRoute = nil
            let changes = engine.takeChanges()
            eventTime = changes.eventTime
            for entry in changes.changed { touched[entry.id, default: (nil, route)].entry = entry }
            for id in changes.ended { touched[id, default: (nil, route)].entry = nil }
        }

        /// The route an entry is written with: the one it was written (or restored) with, else
        /// that of the record that made it.
        func route(of id: RuleStateEntry.ID, key: String) -> UInt64? {
            if let w = written[key] { return w.route }
            if let r = restoredRoutes[id] { return r }
            return touched[id]?.route ?? nil
        }

        /// The changelog records that bring the saved state (`written`) up to the engine's, if
        /// anything changed since the last diff: the entries the engine says changed (written
        /// when their value's hash differs from what was written), tombstones for written entries
        /// that ended, the clock when it moved. Costs what changed, not what the partition holds
        /// (a whole diff after an inexact restore).
        mutating func changelog(worker: Int, of workers: Int, topic: String, partition: Int32, encoder: JSONEncoder,
                                shapes: [String: String]) -> (records: [ProducerRecord], unwritable: Int) {
            guard dirty else { return ([], 0) }
            dirty = false
            var records: [ProducerRecord] = []
            var unwritable = 0
            // Unchanged entries are recognised by the hash of their value, without encoding them.
            func put<Value: Encodable & Hashable>(_ key: String, _ value: Value, route: UInt64? = nil, always: Bool = false) {
                let hash = value.hashValue
                guard always || written[key]?.hash != hash else { return }
                guard let bytes = try? encoder.encode(value) else {
                    unwritable += 1
                    return
                }
                written[key] = ChangelogRecord.Written(hash: hash, route: route)
                records.append(ChangelogRecord.record(topic: topic, partition: partition, key: key, value: Array(bytes)))
            }
            func end(_ key: String) {
                guard written.removeValue(forKey: key) != nil else { return }
                records.append(ChangelogRecord.record(topic: topic, partition: partition, key: key, value: nil))
            }
            func put(_ entry: RuleStateEntry) {
                let key = ChangelogRecord.key(worker: worker, entry.id)
                let r = self.route(of: entry.id, key: key)
                put(key, ChangelogRecord.Entry(worker: worker, entry: entry, shape: shapes[entry.ruleID], route: r), route: r)
            }
            let clockKey = ChangelogRecord.clockKey(worker: worker)
            takeChanges(route: untakenRoute)
            if wholeDiff {
                wholeDiff = false
                let exported = engine.exportState()
                var live: Set = [clockKey]
                for entry in exported.entries {
                    live.insert(ChangelogRecord.key(worker: worker, entry.id))
                    put(entry)
                }
                // Clocks last: a tombstone of another worker number's entry is closed by that
                // number's clock (its tombstone here, when that worker is gone).
                for key in written.keys.filter({ !live.contains($0) }).sorted(by: { ($0.hasPrefix("c/") ? 1 : 0, $0) < ($1.hasPrefix("c/") ? 1 : 0, $1) }) {
                    end(key)
                }
            } else {
                for id in touched.keys.sorted() {
                    if let entry = touched[id]?.entry { put(entry) } else { end(ChangelogRecord.key(worker: worker, id)) }
                }
            }
            touched = [:]
            restoredRoutes = [:]
            legacy = legacy?.pruned(passed: seen, own: sources)
            // Last, and whenever entries were written: the clock closes the diff (a restore takes
            // the entries before it only), and says what the state holds.
            var progress: [String: ChangelogRecord.RawPosition] = [:]
            for (source, position) in sources { progress[source.key] = position }
            put(clockKey, ChangelogRecord.Clock(worker: worker, eventTime: eventTime, workers: workers,
                                                applied: applied, sources: progress, legacy: legacy),
                always: !records.isEmpty)
            return (records, unwritable)
        }
    }

    private struct State {
        var partitions: [TopicPartition: Partition] = [:]
        /// The rule set new engines start with; replaced whole by ``reload(_:)``.
        var rules: [Rule] {
            didSet { shapes = Self.shapes(of: rules) }
        }
        /// Rule id → its state shape's fingerprint, written with each changelog entry.
        var shapes: [String: String] = [:]
        /// Counters of engines dropped (revoked partitions), so totals never go back.
        var retired = EngineStatistics()
        let decoder: RepartitionDecoder
        let encoder: JSONEncoder

        static func shapes(of rules: [Rule]) -> [String: String] {
            var out: [String: String] = [:]
            for rule in rules { out[rule.id] = rule.stateShape.fingerprint }
            return out
        }
    }

    /// Changelog records per partition, to be produced before the offsets they cover are committed.
    typealias Changes = [TopicPartition: [ProducerRecord]]
    /// Per event evaluated (or notice, or record that could not be read): its record's batch
    /// position, its alerts or why its event could not be rebuilt, and its place in a frame.
    typealias Evaluation = (outcomes: [(Int, Result<[Alert], Undecodable>, Item.Place?)], changes: Changes)

    /// One event to evaluate: a record (batch position), and for a frame's event its entry.
    struct Item: Sendable {
        struct Place: Sendable, Hashable {
            /// The entry's number in its frame (alerts are produced in entry order).
            var index: Int
            var entry: RepartitionFrame.Entry
        }

        var position: Int
        var record: ConsumerRecord
        var place: Place?
        /// The event's routing hash (``DetectProcessor/route(_:_:)``), computed once.
        var route: UInt64
    }

    // The decoder is not Sendable; it only lives inside the mutex.
    private let state: Mutex<State>
    private let settings: EngineSettings
    private let shared: DetectShared
    private let metrics: DetectMetrics
    private let idleAfter: Duration
    /// This worker's place among the stage's workers (part of its changelog keys), and how
    /// many there are (written with its progress).
    let index: Int
    private let count: Int
    private let changelogTopic: String

    /// `metrics`: the stage's (one per stage); without, the worker makes its own.
    init(topology: Topology, rules: [Rule], shared: DetectShared, metrics: DetectMetrics? = nil,
         index: Int) throws(RuntimeError) {
        let decoder = try RepartitionDecoder(options: DecoderOptions(maxRecordBytes: topology.limits.maxRecordBytes,
                                                                     maxDepth: topology.limits.maxDepth))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        state = Mutex(State(rules: rules, shapes: State.shapes(of: rules), decoder: decoder, encoder: encoder))
        self.index = index
        count = topology.workers.detect
        changelogTopic = topology.topics.changelog.name
        settings = EngineSettings(allowedLateness: topology.limits.allowedLateness.components.seconds,
                                  maxKeysPerRule: topology.limits.maxKeysPerRule,
                                  maxClockLead: topology.limits.maxClockLead.components.seconds)
        self.shared = shared
        self.metrics = metrics ?? DetectMetrics(repartitionTopic: topology.topics.repartition.name, rules: rules)
        idleAfter = topology.limits.idleAdvance
    }

    /// Evaluates records (batch position, record) in order, a frame's events each; returns each
    /// event's alerts, or why it could not be rebuilt (it then goes to the dead-letter topic), and
    /// the changelog records of the partitions in `diffing` (each of them present, maybe empty).
    /// `now`: the time of the batch (tests pass their own, to be past the first `idle_advance`).
    func evaluate(_ records: [(Int, ConsumerRecord)], diffing: Set<TopicPartition>,
                  now: ContinuousClock.Instant = .now) -> Evaluation {
        var items: [Item] = []
        for (position, record) in records { DetectProcessor.forEachItem(position, record) { items.append($0) } }
        return evaluate(items: items, diffing: diffing, now: now)
    }

    /// Evaluates events in order (``DetectProcessor`` hands each worker the events of its keys).
    func evaluate(items: [Item], diffing: Set<TopicPartition>, now: ContinuousClock.Instant = .now) -> Evaluation {
        let wall = Date()
        return state.withLock { s in
            var undecodable = 0, alerted = 0, held = 0, notices = 0
            for i in s.partitions.values.indices {
                s.partitions.values[i].startBatch(now: now, wall: wall, idleAfter: idleAfter)
            }
            let rules = s.rules, settings = settings
            let fresh = { Partition(engine: DetectionEngine(rules: rules, settings: settings, tracksChanges: true),
                                    lastActivity: now) }
            // Where the last item's partition is in the table: a slice's items come in runs of one
            // partition (a frame's events), and hashing its topic name per event was ~1 % of `vigil run`.
            var last: (partition: TopicPartition, index: [TopicPartition: Partition].Index)?
            func slot(_ tp: TopicPartition) -> [TopicPartition: Partition].Index {
                if let last, last.partition == tp { return last.index }
                if s.partitions[tp] == nil { s.partitions[tp] = fresh() }  // an insertion moves the others
                let index = s.partitions.index(forKey: tp)!
                last = (tp, index)
                return index
            }
            let outcomes = items.map { item -> (Int, Result<[Alert], Undecodable>, Item.Place?) in
                let (position, record, place) = (item.position, item.record, item.place)
                if place == nil, RepartitionGap.isNotice(record) {
                    // Counted by the processor (every worker sees it).
                    notices += 1
                    if let gap = RepartitionGap(record) {
                        s.partitions.values[slot(record.topicPartition)].reopen(gap, offset: record.offset)
                    }
                    return (position, .success([]), nil)
                }
                let decoded = place.map { s.decoder.decode(record, entry: $0.entry) } ?? s.decoder.decode(record)
                switch decoded {
                case .issue(let issue):
                    undecodable += 1
                    return (position, .failure(Undecodable(issue: issue)), place)
                case .event(let e):
                    // Modified in place (`values[index]`): a copy taken out and stored back would
                    // copy the engine's state on every event.
                    guard let alerts = s.partitions.values[slot(record.topicPartition)]
                        .process(e, offset: record.offset, route: item.route, at: now, wall: wall) else {
                        held += 1
                        return (position, .success([]), place)
                    }
                    alerted += alerts.count
                    return (position, .success(alerts), place)
                }
            }
            // Counted once per slice, not per event: the counts are shared by every worker.
            // `records` counts events (a frame's each), as before frames, when a record was one.
            if items.count > notices {
                shared.update {
                    $0.records += items.count - notices; $0.undecodable += undecodable; $0.alerts += alerted
                    $0.duplicates += held
                }
                let evaluated = items.count - notices - undecodable - held
                if evaluated > 0 { metrics.evaluated.increment(by: evaluated) }
                if undecodable > 0 { metrics.undecodable.increment(by: undecodable) }
                if held > 0 { metrics.duplicates.increment(by: held) }
            }
            return (outcomes, changelog(of: diffing, in: &s))
        }
    }

    /// The changelog records of these partitions (each present, maybe empty). `whole`: compare
    /// each partition's whole state with what was written, changed or not (as every diff did
    /// before the engine tracked its changes: a check, and the benchmark's baseline).
    func diff(_ partitions: Set<TopicPartition>, whole: Bool = false) -> Changes {
        state.withLock { s in
            if whole {
                for tp in partitions {
                    s.partitions[tp]?.dirty = true
                    s.partitions[tp]?.wholeDiff = true
                }
            }
            return changelog(of: partitions, in: &s)
        }
    }

    /// Partitions changed since their last diff.
    var dirtyPartitions: Set<TopicPartition> {
        state.withLock { s in Set(s.partitions.filter { $0.value.dirty }.map(\.key)) }
    }

    /// The changelog records that make each partition's saved state equal its engine's:
    /// changed or new entries, tombstones for entries that ended, the clock when it moved.
    /// Every partition asked for is in the result (empty when nothing changed or it is not held).
    private func changelog(of partitions: Set<TopicPartition>, in s: inout State) -> Changes {
        var out: Changes = [:]
        var unwritable = 0
        let encoder = s.encoder, shapes = s.shapes
        for tp in partitions {
            // In place (optional chaining): a copy would copy the engine's state.
            let diff = s.partitions[tp]?.changelog(worker: index, of: count, topic: changelogTopic, partition: tp.partition,
                                                   encoder: encoder, shapes: shapes)
            out[tp] = diff?.records ?? []
            unwritable += diff?.unwritable ?? 0
        }
        let written = out.values.reduce(0) { $0 + $1.count }
        if written > 0 || unwritable > 0 {
            shared.update { $0.changelogRecords += written; $0.changelogUnwritable += unwritable }
            metrics.changelogWritten(out.values.joined(), clockKey: ChangelogRecord.clockKey(worker: index))
        }
        return out
    }

    /// Installs a partition's state read back from the changelog (before any of its records
    /// is evaluated); returns how many entries the current rules could not take.
    func restore(_ tp: TopicPartition, _ restored: ChangelogRecord.Restored) -> Int {
        let now = ContinuousClock.now
        var restored = restored
        return state.withLock { s in
            var engine = DetectionEngine(rules: s.rules, settings: settings, tracksChanges: true)
            // Entries of a rule whose shape changed since they were written start empty, as a
            // hot reload leaves them; an inexact restore is diffed whole at the next tick, which
            // tombstones them.
            let reshaped = restored.dropChangedShapes(s.shapes)
            let skipped = engine.importState(restored.state) + reshaped
            // The engine tracks changes from the imported state on; that is exact only when the
            // records read back are this worker's, one per imported entry (plus its clock).
            var expected = Set(restored.state.entries.map { ChangelogRecord.key(worker: index, $0.id) })
            if restored.written[ChangelogRecord.clockKey(worker: index)] != nil {
                expected.insert(ChangelogRecord.clockKey(worker: index))
            }
            let exact = skipped == 0 && restored.dropped == 0 && expected.count == restored.written.count
                && restored.written.keys.allSatisfy(expected.contains)
            if let old = s.partitions[tp] { s.retired.retire(old.engine.statistics) }
            s.partitions[tp] = Partition(engine: engine, lastActivity: now,
                                         written: restored.written, restoredRoutes: exact ? [:] : restored.routes,
                                         dirty: !exact, wholeDiff: !exact,
                                         applied: restored.applied ?? -1, sources: restored.sources,
                                         skipThrough: restored.applied ?? -1, legacy: restored.legacy)
            return skipped
        }
    }

    /// Moves the event time of partitions idle for `limits.idle_advance` forward by the wall-clock
    /// time they were idle, closing windows of quiet keys; produces what that emits.
    /// The partitions it moved are marked for the next diff.
    func advanceIdle() -> [Alert] {
        let now = ContinuousClock.now, wall = Date()
        let alerts: [Alert] = state.withLock { s in
            var out: [Alert] = []
            // In place, by index: a copy per partition would copy its engine's state.
            for i in s.partitions.values.indices {
                out += s.partitions.values[i].advanceIfIdle(now: now, wall: wall, after: idleAfter)
            }
            return out
        }
        if !alerts.isEmpty { shared.update { $0.alerts += alerts.count; $0.idleAlerts += alerts.count } }
        return alerts
    }

    /// Swaps the rule set of every engine this worker holds (and of engines it makes later),
    /// under its lock, so no evaluation sees half of it: state of rules whose shape is
    /// unchanged carries over (``DetectionEngine/reloading(_:tracksChanges:)``). The next diff of
    /// each partition compares its whole state with what was written, so the entries the swap
    /// dropped are tombstoned.
    func reload(_ rules: [Rule]) {
        state.withLock { s in
            s.rules = rules
            for i in s.partitions.values.indices {
                s.partitions.values[i].engine = s.partitions.values[i].engine.reloading(rules, tracksChanges: true)
                s.partitions.values[i].dirty = true
                s.partitions.values[i].wholeDiff = true
            }
        }
    }

    /// Forgets the engines of revoked partitions (their state is in the changelog).
    func drop(_ partitions: [TopicPartition]) {
        state.withLock { s in
            for p in partitions {
                if let old = s.partitions.removeValue(forKey: p) { s.retired.retire(old.engine.statistics) }
            }
        }
    }

    /// Engine counters since the worker started: its partitions' engines and those it
    /// dropped (keys only of the partitions held now). For the metrics.
    var cumulativeStatistics: EngineStatistics {
        state.withLock { s in
            var total = s.retired
            for p in s.partitions.values { total.add(p.engine.statistics) }
            return total
        }
    }

    /// Engine counters summed over this worker's partitions.
    var statistics: EngineStatistics {
        state.withLock { s in
            var total = EngineStatistics()
            for p in s.partitions.values { total.add(p.engine.statistics) }
            return total
        }
    }
}

/// A repartition record whose event could not be rebuilt.
struct Undecodable: Error {
    let issue: DecodeIssue
}

extension EngineStatistics {
    /// Adds a dropped engine's counters: everything but the keys it tracked (gone with it).
    mutating func retire(_ other: EngineStatistics) {
        var counts = other
        for id in counts.rules.keys { counts.rules[id]?.keys = 0 }
        add(counts)
    }

    /// Adds another engine's counters (keys tracked add up: engines hold disjoint keys).
    mutating func add(_ other: EngineStatistics) {
        events += other.events
        lateEvents += other.lateEvents
        futureEvents += other.futureEvents
        untimedEvents += other.untimedEvents
        for (id, r) in other.rules {
            var t = rules[id] ?? RuleStatistics()
            t.matches += r.matches
            t.lateMatches += r.lateMatches
            t.missingGroupBy += r.missingGroupBy
            t.alerts += r.alerts
            t.summaries += r.summaries
            t.evictions += r.evictions
            t.keys += r.keys
            t.truncatedValues += r.truncatedValues
            rules[id] = t
        }
    }
}
