import Detection
import Foundation
import KafkaIO
import Logging
import Metrics
import Synchronization

/// Hands each repartition event (a frame's each) to a worker by key hash (a key's events stay
/// in order on one worker), evaluates the slices in parallel, then registers every record and
/// produces its events' alerts in batch and entry order, so the tracker sees each partition's
/// offsets in order.
///
/// Durable state: a partition's state is diffed into changelog records at most once per
/// `changelogInterval` (and on revoke). The first record of each partition in a batch holds
/// one extra pending unit, released only when a diff taken *after* the batch was evaluated is
/// acknowledged whole, so no offset becomes committable before the state covering it is in
/// the changelog. On assignment each partition's state is read back from the changelog before
/// any of its records is handed over (``restore(_:)``).
struct DetectProcessor: BatchProcessor {
    let workers: [DetectWorker]
    let alertsTopic: String
    let deadLetterTopic: String
    let changelogTopic: String
    let repartitionTopic: String
    /// For the changelog reader (assign mode) and how long a restore may take.
    let client: ClientSettings
    let restoreTimeout: Duration
    let changelogInterval: Duration
    let held = HeldTickets()
    /// Alerts and dead letters produced and not yet acknowledged (a diff waits for none).
    let outputs = InFlight()
    /// Batches, ticks and revoke flushes one at a time: diffs of a partition are produced in
    /// the order they were taken, so the changelog's latest value per key is the newest state.
    let serial = Serial()
    let logger: Logger
    let producer: KafkaProducer
    let consumer: KafkaConsumer
    let tracker: OffsetTracker
    let shared: DetectShared
    let metrics: DetectMetrics

    func process(_ batch: [ConsumerRecord]) async throws(RuntimeError) {
        try await serial.run { () async throws(RuntimeError) in try await processAlone(batch) }
    }

    private func processAlone(_ batch: [ConsumerRecord]) async throws(RuntimeError) {
        // A failed restore must not let records run on empty state (nor their offsets commit).
        if let failure = shared.failure { throw failure }
        var slices = Array(repeating: [DetectWorker.Item](), count: workers.count)
        var notices = 0
        // The batch's partitions, looked up once per run of one partition's records.
        var partitions = Set<TopicPartition>()
        var previous: TopicPartition?
        for (position, record) in batch.enumerated() {
            if record.partition != previous?.partition || record.topic != previous?.topic {
                let tp = record.topicPartition
                partitions.insert(tp)
                previous = tp
            }
            if RepartitionGap.isNotice(record) {
                // Every worker's progress of that raw partition, in batch order.
                let notice = DetectWorker.Item(position: position, record: record, route: 0)
                for i in slices.indices { slices[i].append(notice) }
                notices += 1
            } else {
                // A frame's events each to the worker of its key.
                let count = slices.count  // one slice per worker
                Self.forEachItem(position, record) { slices[Self.slot($0.route, count)].append($0) }
            }
        }
        if notices > 0 { shared.update { $0.records += notices; $0.gapNotices += notices } }
        var changes: DetectWorker.Changes = [:]
        // Partitions due for a diff: their held tickets are taken *before* evaluating, so each
        // was evaluated before the diff that releases it.
        let due = held.due(partitions, interval: changelogInterval)
        let released = Dictionary(uniqueKeysWithValues: due.map { ($0, held.take($0)) })
        let workers = self.workers
        let results = await withTaskGroup(of: DetectWorker.Evaluation.self) { group in
            for (worker, slice) in zip(workers, slices) where !slice.isEmpty || !due.isEmpty {
                group.addTask { worker.evaluate(items: slice, diffing: due) }
            }
            var all: [DetectWorker.Evaluation] = []
            for await part in group { all.append(part) }
            return all
        }
        // Each record's events' outcomes, in entry order (a frame's events may have gone to
        // several workers).
        var outcomes = Array(repeating: [(Result<[Alert], Undecodable>, DetectWorker.Item.Place?)](), count: batch.count)
        for result in results {
            for (position, outcome, place) in result.outcomes { outcomes[position].append((outcome, place)) }
            for (tp, records) in result.changes { changes[tp, default: []] += records }
        }
        var unseen = partitions
        previous = nil
        var releases: [(records: [ProducerRecord], tickets: [OffsetTracker.Ticket])] = []
        for (record, var events) in zip(batch, outcomes) {
            // The partition's first record in the batch also waits for a diff that covers it.
            // A partition's records come in runs: only a run's first record is looked up.
            let tp = record.topicPartition
            let first = tp != previous && unseen.remove(tp) != nil
            previous = tp
            if events.count > 1 { events.sort { ($0.1?.index ?? 0) < ($1.1?.index ?? 0) } }
            var own = 0
            for (outcome, _) in events {
                switch outcome {
                case .success(let alerts): own += alerts.count
                case .failure: own += 1
                }
            }
            let (ticket, next) = tracker.register(tp, offset: record.offset, pending: own + (first ? 1 : 0))
            if let next { consumer.markDone(tp, upTo: next) }
            if first {
                if due.contains(tp) {
                    releases.append((changes.removeValue(forKey: tp) ?? [], (released[tp] ?? []) + [ticket]))
                } else {
                    held.hold(ticket)
                    shared.update { $0.changelogDeferred += 1 }
                }
            }
            for (outcome, place) in events {
                switch outcome {
                case .success(let alerts):
                    let arrival = alerts.isEmpty ? nil : RepartitionCodec.arrival(of: record, entry: place?.entry)
                    for alert in alerts {
                        try await produce(AlertRecord.make(alert, topic: alertsTopic), ticket: ticket, what: "alert \(alert.id)",
                                          alert: (alert.ruleID, alert.severity, arrival))
                    }
                case .failure(let undecodable):
                    metrics.deadLettered(undecodable.issue.reason)
                    var issue = undecodable.issue
                    if let place, issue.position == nil { issue.position = place.index }  // vigil-dlq-position: the entry
                    try await produce(DeadLetterRecord.make(for: Self.alone(record, place?.entry), issue: issue,
                                                            topic: deadLetterTopic),
                                      ticket: ticket, what: "dead letter")
                }
            }
        }
        // After the batch's alerts: a diff is written only once they are acknowledged.
        for r in releases { try await release(r.records, tickets: r.tickets) }
    }

    /// Produces a diff's changelog records; once all are acknowledged, releases the held unit
    /// of each ticket the diff covers.
    ///
    /// The records go out only after every alert and dead letter produced before them is
    /// acknowledged (``outputs``): state in the changelog that says a window fired must never
    /// outlive the loss of its alert (a crash between the two would leave the restored window
    /// fired, the record read again joining it, and the alert never raised). Every record gets
    /// its delivery report within the delivery timeout, so the wait ends.
    private func release(_ records: [ProducerRecord], tickets: [OffsetTracker.Ticket]) async throws(RuntimeError) {
        let tracker = self.tracker, consumer = self.consumer
        let done: @Sendable () -> Void = {
            for ticket in tickets {
                if let next = tracker.acknowledge(ticket) { consumer.markDone(ticket.partition, upTo: next) }
            }
        }
        guard !records.isEmpty else { return done() }
        await outputs.drained()
        if let failure = shared.failure { throw failure }
        let remaining = Countdown(records.count)
        for change in records {
            try await produce(change, ticket: nil, what: "changelog record") {
                if remaining.decrement() { done() }
            }
        }
    }

    /// Diffs these partitions in every worker and releases what their held tickets wait for.
    private func flush(_ partitions: Set<TopicPartition>) async throws(RuntimeError) {
        guard !partitions.isEmpty else { return }
        let released = Dictionary(uniqueKeysWithValues: partitions.map { ($0, held.take($0)) })
        var changes: DetectWorker.Changes = [:]
        for worker in workers {
            for (tp, records) in worker.diff(partitions) { changes[tp, default: []] += records }
        }
        held.diffed(partitions)
        for tp in partitions {
            try await release(changes[tp] ?? [], tickets: released[tp] ?? [])
        }
    }

    func tick() async throws(RuntimeError) {
        try await serial.run { () async throws(RuntimeError) in try await tickAlone() }
    }

    private func tickAlone() async throws(RuntimeError) {
        var dirty = held.partitions
        for worker in workers {
            for alert in worker.advanceIdle() {
                try await produce(AlertRecord.make(alert, topic: alertsTopic), ticket: nil, what: "alert \(alert.id)",
                                  alert: (alert.ruleID, alert.severity, nil))
            }
            dirty.formUnion(worker.dirtyPartitions)
        }
        try await flush(held.due(dirty, interval: changelogInterval))
    }

    /// Before a revoke waits for the partitions' pending records: diff them now, so their held
    /// tickets are released once the changelog has them.
    func revoking(_ partitions: [TopicPartition]) async {
        do throws(RuntimeError) {
            try await serial.run { () async throws(RuntimeError) in
                try await flush(Set(partitions.filter { $0.topic == repartitionTopic }))
            }
        } catch {
            logger.error("detect: changelog flush on revoke failed", metadata: ["error": "\(error)"])
        }
    }

    /// Restores the assigned repartition partitions' state, in parallel: for each, a marker
    /// record is written to its changelog partition (Tansu's ListOffsets end is not the true
    /// end; the marker's offset is), the partition is read from 0 to the marker and folded to
    /// the latest value per key, and each worker imports its share. A failed restore stops the
    /// stage (records must not run on empty state).
    func assigned(_ partitions: [TopicPartition]) async {
        let mine = partitions.filter { $0.topic == repartitionTopic }
        await withTaskGroup(of: Void.self) { group in
            for tp in mine {
                group.addTask {
                    do throws(RuntimeError) {
                        try await restore(tp)
                    } catch {
                        logger.error("detect: state restore failed; stopping", metadata: ["partition": "\(tp)",
                                                                                            "error": "\(error)"])
                        shared.fail(error)
                    }
                }
            }
        }
    }

    func restore(_ tp: TopicPartition) async throws(RuntimeError) {
        let start = ContinuousClock.now
        let marker = ChangelogRecord.record(topic: changelogTopic, partition: tp.partition,
                                            key: ChangelogRecord.markerKey, value: Array("\(start)".utf8))
        let end = try await Self.offset(of: marker, sentBy: producer, within: restoreTimeout,
                                        what: "restore marker to \(changelogTopic)[\(tp.partition)]")
        let snapshot: ChangelogRecord.Snapshot
        do {
            let reader = try KafkaPartitionReader(settings: client, topic: changelogTopic, partition: tp.partition,
                                                  logger: logger)
            snapshot = try await reader.read(to: end, timeout: restoreTimeout, into: ChangelogRecord.Snapshot()) {
                $0.apply($1)
            }
        } catch {
            throw RuntimeError(error, "reading \(changelogTopic)[\(tp.partition)] to offset \(end)")
        }
        let (states, unreadable) = snapshot.states(workers: workers.count)
        var skipped = unreadable, entries = 0, unrouted = 0
        for worker in workers {
            let restored = states[worker.index] ?? ChangelogRecord.Restored()
            skipped += worker.restore(tp, restored)
            entries += restored.state.entries.count
            unrouted += restored.unrouted
        }
        if unrouted > 0 {
            logger.warning("detect: changelog entries written before entries carried their route, restored under another worker count: placed by their old worker's number, their key's records may go to another worker (those windows start again there)",
                           metadata: ["partition": "\(tp)", "entries": "\(unrouted)", "workers": "\(workers.count)"])
        }
        if skipped > 0 {
            logger.warning("detect: changelog records or entries not restored (unreadable, of rules no longer loaded, or whose shape changed)",
                           metadata: ["partition": "\(tp)", "skipped": "\(skipped)"])
        }
        shared.update {
            $0.partitionsRestored += 1; $0.entriesRestored += entries; $0.restoreSkipped += skipped
            $0.entriesUnrouted += unrouted
        }
        let took = ContinuousClock.now - start
        metrics.restoreTime.record(duration: took)
        logger.info("detect: state restored", metadata: [
            "partition": "\(tp)", "records": "\(snapshot.records)", "entries": "\(entries)", "took": "\(took)"])
    }

    /// Swaps the rule set in every worker between batches (batches, ticks and revoke flushes
    /// run one at a time), so no batch sees two rule sets.
    func reload(_ rules: [Rule]) async {
        try? await serial.run { () async throws(RuntimeError) in
            for worker in workers { worker.reload(rules) }
        }
    }

    /// Where the broker stored `record`; gives up after `timeout` (the record may still be
    /// delivered later): a broker that is away, or that no longer knows the producer, must not
    /// hold the consumer's poll thread, which waits for the restore, for a whole delivery timeout.
    static func offset(of record: ProducerRecord, sentBy producer: KafkaProducer, within timeout: Duration,
                       what: String) async throws(RuntimeError) -> Int64 {
        let once = Once()
        let result: Result<Int64, RuntimeError> = await withCheckedContinuation { continuation in
            let finish: @Sendable (Result<Int64, RuntimeError>) -> Void = { result in
                if once.claim() { continuation.resume(returning: result) }
            }
            Task {
                do throws(KafkaError) {
                    try await producer.enqueue(record) { delivery in
                        finish(delivery.map(\.offset).mapError { RuntimeError($0, what) })
                    }
                } catch {
                    finish(.failure(RuntimeError(error, what)))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                finish(.failure(RuntimeError(code: .kafka, detail: "\(what): not acknowledged within \(timeout)")))
            }
        }
        return try result.get()
    }

    func revoked(_ partitions: [TopicPartition]) {
        held.drop(partitions)
        for worker in workers { worker.drop(partitions) }
    }

    /// The worker of a route (``route(_:_:)``): the route modulo the worker count.
    static func slot(_ route: UInt64, _ count: Int) -> Int {
        guard count > 1 else { return 0 }
        return Int(route % UInt64(count))
    }

    /// The worker of a record: its ``route(_:_:)`` modulo the worker count.
    static func slot(_ record: ConsumerRecord, _ count: Int) -> Int {
        slot(route(record), count)
    }

    /// An event's routing hash: FNV-1a of its key — the record's, or for a frame's event its
    /// entry's (the partition number for keyless events). Kept with the state entries the event
    /// makes, so a restore under another worker count gives each entry to the worker its key's
    /// events go to.
    static func route(_ record: ConsumerRecord, _ entry: RepartitionFrame.Entry? = nil) -> UInt64 {
        if let entry {
            guard let range = entry.key, let value = record.value else { return UInt64(max(record.partition, 0)) }
            return fnv1a(value[range])
        }
        guard let key = record.key else { return UInt64(max(record.partition, 0)) }
        return fnv1a(key[...])
    }

    private static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// The events of a record: a frame's each (in entry order), else the record itself (one
    /// event, a notice, or a record that cannot be read — a damaged frame among them, which
    /// then goes to the dead-letter topic whole), handed to `body` one by one (a record of one
    /// event makes no list).
    static func forEachItem(_ position: Int, _ record: ConsumerRecord, _ body: (DetectWorker.Item) -> Void) {
        if let value = record.value, let entries = RepartitionFrame.entries(value) {  // nil unless a frame
            for (index, entry) in entries.enumerated() {
                body(DetectWorker.Item(position: position, record: record, place: .init(index: index, entry: entry),
                                       route: route(record, entry)))
            }
        } else {
            body(DetectWorker.Item(position: position, record: record, route: route(record)))
        }
    }

    /// The record a frame's event would have been alone (its key and version-2 value), for
    /// the dead-letter topic; the record itself when `entry` is nil.
    static func alone(_ record: ConsumerRecord, _ entry: RepartitionFrame.Entry?) -> ConsumerRecord {
        guard let entry, let value = record.value else { return record }
        var single = record
        single.key = entry.key.map { Array(value[$0]) }
        single.value = Array(value[entry.body])
        return single
    }

    /// Produces a record; `alert` (rule id, severity, the raw record's arrival in milliseconds)
    /// when it is an alert, counted once the broker has it.
    private func produce(_ record: ProducerRecord, ticket: OffsetTracker.Ticket?, what: String,
                         alert: (rule: String, severity: Severity, arrival: Int64?)? = nil,
                         then acknowledged: (@Sendable () -> Void)? = nil) async throws(RuntimeError) {
        let tracker = self.tracker, consumer = self.consumer, shared = self.shared, metrics = self.metrics
        let outputs = record.topic == changelogTopic ? nil : self.outputs
        outputs?.add()
        do {
            try await producer.enqueue(record) { result in
                defer { outputs?.done() }
                switch result {
                case .success:
                    if let alert {
                        shared.update { $0.alertsAcknowledged += 1 }
                        metrics.alertDelivered(rule: alert.rule, severity: alert.severity, arrival: alert.arrival,
                                               nowMilliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
                    }
                    if let ticket, let next = tracker.acknowledge(ticket) {
                        consumer.markDone(ticket.partition, upTo: next)
                    }
                    acknowledged?()
                case .failure(let error):
                    shared.failDelivery(RuntimeError(code: .deliveryFailed, detail: "\(what) to \(record.topic): \(error)"),
                                        topic: record.topic)
                }
            }
        } catch {
            outputs?.done()
            throw RuntimeError(error, "producing to \(record.topic)")
        }
    }
}

/// Tickets whose extra unit waits for a diff of their partition, and when each partition was
/// last diffed.
final class HeldTickets: Sendable {
    private let state = Mutex<(tickets: [TopicPartition: [OffsetTracker.Ticket]], lastDiff: [TopicPartition: ContinuousClock.Instant])>(([:], [:]))

    func hold(_ ticket: OffsetTracker.Ticket) {
        state.withLock { $0.tickets[ticket.partition, default: []].append(ticket) }
    }

    func take(_ tp: TopicPartition) -> [OffsetTracker.Ticket] {
        state.withLock { $0.tickets.removeValue(forKey: tp) ?? [] }
    }

    /// Those of `partitions` not diffed within `interval` (never diffed: due); marks them diffed now.
    func due(_ partitions: Set<TopicPartition>, interval: Duration) -> Set<TopicPartition> {
        let now = ContinuousClock.now
        return state.withLock { s in
            let due = partitions.filter { s.lastDiff[$0].map { now - $0 >= interval } ?? true }
            for tp in due { s.lastDiff[tp] = now }
            return due
        }
    }

    func diffed(_ partitions: Set<TopicPartition>) {
        let now = ContinuousClock.now
        state.withLock { s in for tp in partitions { s.lastDiff[tp] = now } }
    }

    /// Partitions with held tickets.
    var partitions: Set<TopicPartition> { state.withLock { Set($0.tickets.keys) } }

    func drop(_ partitions: [TopicPartition]) {
        state.withLock { s in
            for tp in partitions {
                s.tickets[tp] = nil
                s.lastDiff[tp] = nil
            }
        }
    }
}

/// Records in flight, and those waiting until none is.
final class InFlight: Sendable {
    private let state = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))

    func add() { state.withLock { $0.count += 1 } }

    func done() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.count -= 1
            guard s.count == 0 else { return [] }
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once no record is in flight.
    func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s in
                if s.count == 0 { return true }
                s.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// True for the first caller only.
final class Once: Sendable {
    private let done = Mutex(false)
    func claim() -> Bool { done.withLock { d in defer { d = true }; return !d } }
}

/// Counts acknowledgements down; true for the one that reaches zero.
final class Countdown: Sendable {
    private let left: Mutex<Int>
    init(_ count: Int) { left = Mutex(count) }
    func decrement() -> Bool { left.withLock { $0 -= 1; return $0 == 0 } }
}

/// Runs async bodies one at a time, in arrival order.
actor Serial {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run(_ body: () async throws(RuntimeError) -> Void) async throws(RuntimeError) {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
        try await body()
    }
}
