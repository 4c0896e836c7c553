import CRdKafka
import Foundation
import Logging
import Synchronization

/// The consumer's poll thread: the only code that calls poll, assign, pause/resume,
/// offsets_store, commit and close on the handle. Async callers reach it through the
/// inbox; it wakes for them via `rd_kafka_queue_yield`.
///
/// Offsets: `enable.auto.offset.store=false`, so only offsets the caller marks done are
/// stored; stored offsets are committed every `commitInterval` when something new was stored
/// (asynchronously, the outcome read from a queue of the loop's own), on `commit()`, before
/// a revoked partition is unassigned, and on close (synchronously). Each outcome goes to
/// `hooks.onCommit` (librdkafka's auto-commit would report them only through an
/// offset_commit_cb, ops/metrics.md).
///
/// - Important: every `var` below is touched only on the poll thread, except `inbox`
///   (a Mutex) and `assignmentSnapshot` (a Mutex).
final class ConsumerLoop: @unchecked Sendable {
    enum Command {
        case commit(CheckedContinuation<Void, any Error>)
        case pause(Set<TopicPartition>)
        case resume(Set<TopicPartition>)
        case bufferDrained
        case close(CheckedContinuation<Void, Never>?)
    }

    private struct Inbox {
        var commands: [Command] = []
        var stores: [TopicPartition: Int64] = [:]
        var closed = false

        mutating func store(_ partition: TopicPartition, _ offset: Int64) {
            // One lookup, in place: never backwards.
            Self.raise(&stores[partition, default: -1], to: offset)
        }

        private static func raise(_ stored: inout Int64, to offset: Int64) {
            if offset > stored { stored = offset }
        }
    }

    let handle: RDKafkaHandle
    let buffer: RecordBuffer
    private let queue: OpaquePointer
    /// Where the outcomes of periodic commits arrive (served by the poll thread).
    private let commitQueue: OpaquePointer
    private let commitInterval: Duration?
    private let hooks: RebalanceHooks
    private let logger: Logger
    private let maxBatchSize: Int
    private let inbox = Mutex(Inbox())
    let assignmentSnapshot = Mutex(Set<TopicPartition>())
    /// Partitions paused in librdkafka now, and how often a full buffer paused the assignment.
    let pauseSnapshot = Mutex((paused: 0, capacityPauses: 0))

    // Poll-thread state.
    private var assigned = Set<TopicPartition>()
    private var callerPaused = Set<TopicPartition>()
    private var capacityPaused = false
    private var pausedInLibrary = Set<TopicPartition>()
    private var highestStored: [TopicPartition: Int64] = [:]
    private var pending: [ConsumerRecord] = []
    /// What `rd_kafka_consume_batch_queue` fills (`batchCapacity` entries, reused).
    private let batch: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private let batchCapacity: Int
    /// Partitions revoked by a rebalance callback served inside the current batch call (emptied
    /// before each call, read right after it).
    private var revokedInCall = Set<TopicPartition>()
    private let topicNames = TopicNameCache()
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private var stopping = false
    private var nextCommit = ContinuousClock.now
    /// Offsets stored since the last commit was issued.
    private var storedSinceCommit = false
    /// Since when a full buffer has held the thread (not taking records); nil: not holding.
    private var heldSince: ContinuousClock.Instant?

    /// How long a full buffer may hold the poll thread before the assignment is paused in
    /// librdkafka instead (see ``holdForRoom()``).
    static let holdLimit: Duration = .seconds(1)

    init(handle: RDKafkaHandle, buffer: RecordBuffer, hooks: RebalanceHooks, logger: Logger,
         maxBatchSize: Int, commitInterval: Duration? = nil) throws(KafkaError) {
        guard let queue = rd_kafka_queue_get_consumer(handle.pointer) else {
            throw KafkaError(code: .state, detail: "the handle has no consumer queue")
        }
        guard let commitQueue = rd_kafka_queue_new(handle.pointer) else {
            rd_kafka_queue_destroy(queue)
            throw KafkaError(code: .state, detail: "no queue for commit outcomes")
        }
        self.handle = handle
        self.buffer = buffer
        self.queue = queue
        self.commitQueue = commitQueue
        self.commitInterval = commitInterval
        if let commitInterval { nextCommit = .now + commitInterval }
        self.hooks = hooks
        self.logger = logger
        self.maxBatchSize = maxBatchSize
        batchCapacity = max(1, min(maxBatchSize, 1024))
        batch = .allocate(capacity: batchCapacity)
        batch.initialize(repeating: nil, count: batchCapacity)
    }

    deinit {
        batch.deinitialize(count: batchCapacity)
        batch.deallocate()
    }

    // MARK: Inbox (any thread)

    func send(_ command: Command) {
        let accepted = inbox.withLock { box in
            if box.closed { return false }
            box.commands.append(command)
            // Yield under the lock: shutDown marks the inbox closed before destroying the queue.
            rd_kafka_queue_yield(queue)
            return true
        }
        guard !accepted else { return }
        switch command {
        case .commit(let continuation): continuation.resume(throwing: KafkaError.closedHandle)
        case .close(let continuation): continuation?.resume()
        default: break
        }
    }

    func store(_ offsets: [TopicPartition: Int64]) {
        inbox.withLock { box in
            for (tp, offset) in offsets { box.store(tp, offset) }
        }
    }

    func store(_ partition: TopicPartition, _ offset: Int64) {
        inbox.withLock { $0.store(partition, offset) }
    }

    // MARK: The thread

    func start(name: String) {
        let thread = Thread { [self] in
            nameCurrentThread(name)
            run()
        }
        thread.start()
    }

    private func run() {
        while !stopping {
            processInbox()
            if stopping { break }
            // While a full buffer holds the thread, commits still go out.
            if !holdForRoom() { pollBatch() }
            commitPeriodically()
            serveCommitOutcomes()
            if let fatal = handle.recordedFatalError() {
                logger.critical("consumer hit a fatal error; closing", metadata: ["error": "\(fatal)"])
                buffer.finish(fatal)
                stopping = true
            }
        }
        shutDown()
    }

    /// Waits (up to 100 ms) for one message, then takes what else is already fetched, up to
    /// `maxBatchSize`, with `rd_kafka_consume_batch_queue` and no wait: one call per run of
    /// messages instead of one `rd_kafka_consumer_poll` each (each of those took the queue's
    /// lock and read the clock three times; ops/bench/e2e.md, session 6).
    private func pollBatch() {
        guard let first = rd_kafka_consumer_poll(handle.pointer, 100) else { return }
        pending.reserveCapacity(min(maxBatchSize, 1024))
        take(first)
        while pending.count < maxBatchSize {
            revokedInCall = []
            let n = rd_kafka_consume_batch_queue(queue, 0, batch, min(batchCapacity, maxBatchSize - pending.count))
            if !revokedInCall.isDisjoint(with: assigned) {
                // Revoked and assigned again within one call (its revoke hook waited while the
                // group rejoined): the call's messages of that partition may be from before the
                // revoke or from the new assignment, and nothing tells which. None of the call's
                // messages is handed over and the consumer ends with an error: the stage starts
                // again from the committed offsets (at-least-once). Not seen: the new assignment
                // needs the group's join and sync round trips while the call takes only what is
                // already queued.
                for i in 0..<max(n, 0) { if let message = batch[i] { rd_kafka_message_destroy(message) }; batch[i] = nil }
                pending = []
                let error = KafkaError(code: .state, detail: "a partition was revoked and assigned again within one batch call")
                logger.error("consumer: restarting", metadata: ["error": "\(error)"])
                buffer.finish(error)
                stopping = true
                return
            }
            guard n > 0 else { break }
            for i in 0..<n {
                guard let message = batch[i] else { continue }
                batch[i] = nil
                // A revoke served inside the call (its callback ran there) came after the
                // messages the call had taken before it: those of the revoked partitions are not
                // handed over (not done; the partition's next owner reads them from the committed
                // offset). The call took none after the revoke: librdkafka's version check
                // discards those of a partition no longer assigned.
                if !revokedInCall.isEmpty,
                   revokedInCall.contains(TopicPartition(topicNames.name(of: message.pointee.rkt), message.pointee.partition)) {
                    rd_kafka_message_destroy(message)
                    continue
                }
                take(message)
            }
        }
        guard !pending.isEmpty else { return }
        let records = pending
        pending = []
        // A full buffer is dealt with before the next poll (holdForRoom).
        _ = buffer.push(records)
    }

    /// Back-pressure from a full hand-over buffer. The thread first stops taking records: the
    /// records librdkafka fetched stay in its own queue, which is bounded
    /// (`queued.min.messages`, `queued.max.messages.kbytes`), so its fetching stops too, and
    /// nothing fetched is thrown away. Pausing the partitions in librdkafka instead purges its
    /// fetch queue (a pause bumps the partitions' op version), and every record in it is
    /// fetched again after the resume: while a drain outruns the stage, that had the broker
    /// serve much of the backlog twice. The hold ends when the reader has taken the buffer
    /// down to half. Not polling also delays rebalance callbacks and counts against
    /// `max.poll.interval.ms`, so a buffer still full after ``holdLimit`` (the stage is stuck:
    /// a slow output, a hot key) pauses the assignment as before and the thread polls on.
    /// A hold counts as a capacity pause, and its partitions as paused, in `pauses`.
    /// - Returns: true while the thread should not take records.
    private func holdForRoom() -> Bool {
        if capacityPaused { return false }
        let count = buffer.count
        if let since = heldSince {
            if count <= buffer.capacity / 2 {
                heldSince = nil
                let paused = pausedInLibrary.count
                pauseSnapshot.withLock { $0.paused = paused }
                return false
            }
            if ContinuousClock.now - since >= Self.holdLimit {
                heldSince = nil
                capacityPaused = true
                applyPauseState()
                return false
            }
        } else {
            guard count >= buffer.capacity else { return false }
            heldSince = .now
            let held = assigned.count
            pauseSnapshot.withLock { $0.capacityPauses += 1; $0.paused = held }
        }
        buffer.waitForReader(timeout: .milliseconds(5))
        return true
    }

    /// Copies one message out and destroys it in the same scope.
    private func take(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let error = KafkaError(m.err, detail: rd_kafka_message_errstr(message).map { String(cString: $0) })
            logger.warning("consumer error", metadata: ["error": "\(error)"])
            return
        }
        pending.append(Self.record(of: message, topic: topicNames.name(of: m.rkt)))
    }

    /// A message (without error) as a `ConsumerRecord`: key, value, headers and timestamp copied.
    static func record(of message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) -> ConsumerRecord {
        let m = message.pointee
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { payload in
            [UInt8](unsafeUninitializedCapacity: m.len + ConsumerRecord.valueSpareCapacity) { buffer, count in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(start: payload, count: m.len))
                count = m.len
            }
        }
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &tsType)
        let timestamp: KafkaTimestamp? = switch tsType {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: KafkaTimestamp(kind: .createTime, milliseconds: ts)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: KafkaTimestamp(kind: .logAppendTime, milliseconds: ts)
        default: nil
        }
        return ConsumerRecord(topic: topic, partition: m.partition, offset: m.offset, key: key,
                              value: value, headers: headers(of: message), timestamp: timestamp)
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return [] }
        var out: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(hdrs, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            out.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return out
    }

    // MARK: Commands (poll thread)

    private func processInbox() {
        let (commands, stores) = inbox.withLock { box in
            defer { box.commands = []; box.stores = [:] }
            return (box.commands, box.stores)
        }
        applyStores(stores)
        for command in commands {
            switch command {
            case .commit(let continuation):
                do throws(KafkaError) {
                    try commitStored()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            case .pause(let partitions):
                callerPaused.formUnion(partitions)
                applyPauseState()
            case .resume(let partitions):
                callerPaused.subtract(partitions)
                applyPauseState()
            case .bufferDrained:
                if capacityPaused {
                    capacityPaused = false
                    applyPauseState()
                }
            case .close(let continuation):
                if let continuation { closeWaiters.append(continuation) }
                stopping = true
            }
        }
    }

    /// Stores done offsets, never moving a partition backwards, only for assigned partitions.
    private func applyStores(_ stores: [TopicPartition: Int64]) {
        var accepted: [TopicPartition: Int64] = [:]
        for (tp, offset) in stores where assigned.contains(tp) && offset > highestStored[tp, default: -1] {
            accepted[tp] = offset
        }
        guard !accepted.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(offsets: accepted)
        let err = rd_kafka_offsets_store(handle.pointer, list.pointer)
        for (tp, offset, perr) in RDKafkaTopicPartitionList.entries(of: list.pointer) {
            if perr == RD_KAFKA_RESP_ERR_NO_ERROR {
                highestStored[tp] = offset
                storedSinceCommit = true
            } else {
                logger.debug("offset not stored", metadata: ["partition": "\(tp)", "error": "\(KafkaError(perr))"])
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__STATE {
            logger.warning("offsets_store failed", metadata: ["error": "\(KafkaError(err))"])
        }
    }

    /// Commits every stored offset of the current assignment, synchronously.
    private func commitStored() throws(KafkaError) {
        storedSinceCommit = false
        let err = rd_kafka_commit(handle.pointer, nil, 0)
        committed(err)
        if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
        throw KafkaError(err)
    }

    /// Every `commitInterval`, when offsets were stored since the last commit: commits them
    /// without waiting (the outcome arrives on `commitQueue`).
    private func commitPeriodically() {
        guard let commitInterval, ContinuousClock.now >= nextCommit else { return }
        nextCommit = .now + commitInterval
        guard storedSinceCommit, !assigned.isEmpty else { return }
        storedSinceCommit = false
        let err = rd_kafka_commit_queue(handle.pointer, nil, commitQueue, nil, nil)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { committed(err) }
    }

    /// The outcomes of periodic commits that have arrived.
    private func serveCommitOutcomes() {
        while let event = rd_kafka_queue_poll(commitQueue, 0) {
            defer { rd_kafka_event_destroy(event) }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT { committed(rd_kafka_event_error(event)) }
        }
    }

    /// One commit's outcome to `hooks.onCommit`; nothing when there was nothing to commit.
    private func committed(_ err: rd_kafka_resp_err_t) {
        switch err {
        case RD_KAFKA_RESP_ERR__NO_OFFSET:
            return
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            hooks.onCommit(true)
        default:
            logger.warning("offset commit failed", metadata: ["error": "\(KafkaError(err))"])
            // Tried again at the next interval (or on revoke, close).
            storedSinceCommit = true
            hooks.onCommit(false)
        }
    }

    /// Makes librdkafka's paused set match: everything assigned while the buffer is full,
    /// otherwise what the caller paused.
    private func applyPauseState() {
        let desired = capacityPaused ? assigned : assigned.intersection(callerPaused)
        let toPause = desired.subtracting(pausedInLibrary)
        let toResume = pausedInLibrary.intersection(assigned).subtracting(desired)
        if !toPause.isEmpty {
            let list = RDKafkaTopicPartitionList(toPause.sorted())
            _ = rd_kafka_pause_partitions(handle.pointer, list.pointer)
        }
        if !toResume.isEmpty {
            let list = RDKafkaTopicPartitionList(toResume.sorted())
            _ = rd_kafka_resume_partitions(handle.pointer, list.pointer)
        }
        pausedInLibrary = desired
        let paused = desired.count
        pauseSnapshot.withLock { $0.paused = paused }
    }

    // MARK: Rebalance (poll thread, inside rd_kafka_consumer_poll, rd_kafka_consume_batch_queue or close)

    func rebalance(_ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let rk = handle.pointer
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let partitions = RDKafkaTopicPartitionList.partitions(of: list)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, list) {
                    logger.error("incremental assign failed", metadata: ["error": "\(KafkaError(consuming: error))"])
                }
            } else {
                let e = rd_kafka_assign(rk, list)
                if e != RD_KAFKA_RESP_ERR_NO_ERROR { logger.error("assign failed", metadata: ["error": "\(KafkaError(e))"]) }
            }
            let fresh = Set(partitions)
            assigned.formUnion(fresh)
            // A fresh assignment starts unpaused; make our view and librdkafka's agree.
            pausedInLibrary.subtract(fresh)
            let stale = RDKafkaTopicPartitionList(fresh.sorted())
            _ = rd_kafka_resume_partitions(rk, stale.pointer)
            applyPauseState()
            logger.info("partitions assigned", metadata: ["partitions": "\(partitions)"])
            runHook { await self.hooks.onAssign(partitions) }
            // Published after the hook: a partition shows in `assignment` once its owner is ready.
            assignmentSnapshot.withLock { $0 = assigned }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            let revoked = Set(partitions)
            pending.removeAll { revoked.contains($0.topicPartition) }
            revokedInCall.formUnion(revoked)
            buffer.purge(revoked)
            logger.info("partitions revoked", metadata: ["partitions": "\(partitions)", "lost": "\(lost)"])
            runHook { await self.hooks.onRevoke(partitions, lost) }
            processStoresOnly()
            if !lost {
                do throws(KafkaError) { try commitStored() } catch {
                    logger.warning("commit on revoke failed", metadata: ["error": "\(error)"])
                }
            }
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, list) {
                    logger.error("incremental unassign failed", metadata: ["error": "\(KafkaError(consuming: error))"])
                }
            } else {
                _ = rd_kafka_assign(rk, nil)
            }
            assigned.subtract(revoked)
            callerPaused.subtract(revoked)
            pausedInLibrary.subtract(revoked)
            let paused = pausedInLibrary.count
            pauseSnapshot.withLock { $0.paused = paused }
            for tp in revoked { highestStored[tp] = nil }
            assignmentSnapshot.withLock { $0 = assigned }
        default:
            logger.error("rebalance error", metadata: ["error": "\(KafkaError(err))"])
            _ = rd_kafka_assign(rk, nil)
            assigned = []
            assignmentSnapshot.withLock { $0 = [] }
        }
    }

    /// Runs an async hook to completion while blocking the poll thread (never a pool
    /// thread), serving the inbox meanwhile so the hook can mark work done, commit or
    /// pause without deadlocking (a close request is honoured after the hook).
    private func runHook(_ body: @escaping @Sendable () async -> Void) {
        let done = Locked(false)
        Task {
            await body()
            done.withLock { $0 = true }
        }
        while !done.withLock({ $0 }) {
            processInbox()
            usleep(1_000)
        }
    }

    private func processStoresOnly() {
        let stores = inbox.withLock { box in
            defer { box.stores = [:] }
            return box.stores
        }
        applyStores(stores)
    }

    // MARK: Shutdown (poll thread)

    private func shutDown() {
        processStoresOnly()
        // Triggers the final revoke (hooks run, stored offsets committed) and leaves the group.
        let err = rd_kafka_consumer_close(handle.pointer)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("consumer close", metadata: ["error": "\(KafkaError(err))"])
        }
        buffer.finish()
        serveCommitOutcomes()
        rd_kafka_queue_destroy(commitQueue)
        // Commands that arrived after the loop stopped; later ones are answered by send().
        let late = inbox.withLock { box in
            box.closed = true
            defer { box.commands = [] }
            return box.commands
        }
        rd_kafka_queue_destroy(queue)
        handle.destroy()
        for command in late {
            switch command {
            case .commit(let c): c.resume(throwing: KafkaError.closedHandle)
            case .close(let c): if let c { closeWaiters.append(c) }
            default: break
            }
        }
        for waiter in closeWaiters { waiter.resume() }
        closeWaiters = []
    }
}
