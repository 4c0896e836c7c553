import CRdKafka
import Logging
import Synchronization

/// What a consumer's owner does when partitions move. Both run on the consumer's poll
/// thread's behalf (the thread waits for them), before any record of a newly assigned
/// partition is handed over, and before a revoked partition's offsets are committed.
public struct RebalanceHooks: Sendable {
    /// Partitions now owned by this member.
    public var onAssign: @Sendable ([TopicPartition]) async -> Void
    /// Partitions being taken away. Finish their in-flight work and mark it done; those
    /// offsets are committed after this returns. `lost` means the group already gave them
    /// to someone else (session timeout): nothing is committed then.
    public var onRevoke: @Sendable (_ partitions: [TopicPartition], _ lost: Bool) async -> Void
    /// The outcome of each offset commit the consumer issued (periodic, ``KafkaConsumer/commit()``,
    /// on revoke, on close): true when the broker took it. Not called when there was nothing new
    /// to commit. Runs on the poll thread: keep it short (count, don't wait).
    public var onCommit: @Sendable (_ committed: Bool) -> Void

    public init(onAssign: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in },
                onRevoke: @escaping @Sendable ([TopicPartition], Bool) async -> Void = { _, _ in },
                onCommit: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.onAssign = onAssign
        self.onRevoke = onRevoke
        self.onCommit = onCommit
    }

    public static let none = RebalanceHooks()
}

/// A consumer-group member over several topics, at-least-once: only offsets the caller
/// marks done are committed.
///
/// Records arrive in batches through `batches` (or one by one through `records`), read by
/// one task. A slow reader makes the consumer pause its partitions rather than buffer
/// without bound. `close()` finishes the revoke (hooks, commit) and leaves the group at once.
///
/// - Important: librdkafka is driven by a dedicated thread per consumer (see `ConsumerLoop`);
///   nothing here blocks a Swift concurrency thread.
public final class KafkaConsumer: Sendable {
    private let loop: ConsumerLoop
    private let latestStatistics: LatestValue<KafkaStatistics>
    public let settings: ConsumerSettings

    /// Validates the settings (every problem at once, before connecting), then joins the
    /// group and subscribes to `topics`.
    public init(settings: ConsumerSettings, topics: [String], hooks: RebalanceHooks = .none,
                logger: Logger, onStatistics: (@Sendable (KafkaStatistics) -> Void)? = nil) throws(KafkaError) {
        guard !topics.isEmpty else {
            throw KafkaError.configuration([SettingsProblem(key: "topics", message: "at least one topic is required")])
        }
        let config = try RDKafkaConfig.consumer(settings)
        let context = RDKafkaContext(logger: logger)
        let latest = LatestValue<KafkaStatistics>()
        let loopRef = LoopReference()
        context.onRebalance = { err, list in loopRef.loop?.rebalance(err, list) }
        context.onStatistics = { stats in
            latest.set(stats)
            onStatistics?(stats)
        }
        let handle = try RDKafkaHandle(type: RD_KAFKA_CONSUMER, config: config, context: context)
        rd_kafka_poll_set_consumer(handle.pointer)
        let buffer = RecordBuffer(capacity: settings.bufferCapacity) { loopRef.loop?.send(.bufferDrained) }
        let loop: ConsumerLoop
        do {
            loop = try ConsumerLoop(handle: handle, buffer: buffer, hooks: hooks, logger: logger,
                                    maxBatchSize: settings.maxBatchSize, commitInterval: settings.autoCommitInterval)
        } catch {
            handle.destroy()
            throw error
        }
        loopRef.loop = loop
        let subscription = RDKafkaTopicPartitionList(topics.map { TopicPartition($0, RD_KAFKA_PARTITION_UA) })
        let err = rd_kafka_subscribe(handle.pointer, subscription.pointer)
        self.loop = loop
        self.settings = settings
        self.latestStatistics = latest
        loop.start(name: "vigil-consumer")
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            loop.send(.close(nil))
            throw KafkaError(err)
        }
    }

    deinit {
        loop.send(.close(nil))
    }

    /// Batches of records in poll order; ends when the consumer closes. One reader.
    public var batches: ConsumerBatches { ConsumerBatches(buffer: loop.buffer) }

    /// Records one by one; ends when the consumer closes. One reader.
    public var records: ConsumerRecords { ConsumerRecords(buffer: loop.buffer) }

    /// Partitions currently assigned to this member.
    public var assignment: Set<TopicPartition> { loop.assignmentSnapshot.withLock { $0 } }

    /// The latest librdkafka statistics (needs `statisticsInterval`): consumer lag per partition.
    public var statistics: KafkaStatistics? { latestStatistics.get() }

    /// Records fetched and not yet taken by the reader.
    public var bufferedCount: Int { loop.buffer.count }

    /// Partitions paused now (by a full buffer or by ``pause(_:)``), and how many times a full
    /// buffer (`bufferCapacity`) has paused the assignment since the consumer started.
    public var pauses: (paused: Int, capacityPauses: Int) { loop.pauseSnapshot.withLock { $0 } }

    /// Marks a record done: its offset + 1 becomes committable for its partition.
    /// Offsets never move backwards; marks for partitions no longer assigned are ignored.
    public func markDone(_ record: ConsumerRecord) {
        loop.store(record.topicPartition, record.offset + 1)
    }

    /// Marks everything before `nextOffset` done on each partition.
    public func markDone(upTo offsets: [TopicPartition: Int64]) {
        loop.store(offsets)
    }

    /// Marks everything before `nextOffset` done on one partition (no dictionary to build: a
    /// delivery report that moves a partition's done run calls this once per record).
    public func markDone(_ partition: TopicPartition, upTo nextOffset: Int64) {
        loop.store(partition, nextOffset)
    }

    /// Commits every offset marked done so far (synchronously with the broker).
    public func commit() async throws(KafkaError) {
        do {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                loop.send(.commit(c))
            }
        } catch let error as KafkaError {
            throw error
        } catch {
            throw KafkaError(code: .other, detail: "\(error)")
        }
    }

    /// Stops fetching these partitions (back-pressure); the member stays in the group.
    public func pause(_ partitions: some Sequence<TopicPartition>) {
        loop.send(.pause(Set(partitions)))
    }

    public func resume(_ partitions: some Sequence<TopicPartition>) {
        loop.send(.resume(Set(partitions)))
    }

    /// Runs the final revoke (hooks, commit of done offsets), leaves the group and ends
    /// `records`. Idempotent.
    public func close() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            loop.send(.close(c))
        }
    }
}

/// Lets the C callbacks created before the loop reach it once it exists.
private final class LoopReference: @unchecked Sendable {
    // @unchecked Sendable: `loop` is set once, before the poll thread starts and before
    // rd_kafka_subscribe can cause any rebalance callback; it is only read afterwards.
    // Weak: the loop owns the buffer whose callback holds this reference (no cycle); the
    // loop lives as long as its consumer or its running thread.
    weak var loop: ConsumerLoop?
}

/// The latest value of something reported from another thread.
final class LatestValue<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    func get() -> Value? { value.withLock { $0 } }
}
