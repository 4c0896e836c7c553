import CRdKafka
import Logging

/// Where ``KafkaGroupOffsets/reset(topics:to:dryRun:timeout:)`` moves a group.
public enum OffsetResetTarget: Sendable, Hashable, CustomStringConvertible {
    /// Each partition's first offset still held (the log start).
    case earliest
    /// Each partition's high watermark (nothing old is read again).
    case latest
    /// Each partition's first record with a timestamp at or after this time (milliseconds
    /// since the epoch); the high watermark where no record is that recent.
    case time(milliseconds: Int64)

    public var description: String {
        switch self {
        case .earliest: "earliest"
        case .latest: "latest"
        case .time(let ms): "time \(ms) ms"
        }
    }
}

/// One partition's committed offset before and after a reset.
public struct GroupOffsetChange: Sendable, Hashable {
    public var partition: TopicPartition
    /// The committed offset before; nil when the group had none for the partition.
    public var before: Int64?
    /// The offset the group reads next after the reset.
    public var after: Int64
}

/// Reads and moves a consumer group's committed offsets from outside the group: a consumer
/// handle with the group's id that never joins (no subscription, no rebalances) and commits
/// explicitly. Vigil's `offsets` command uses it to replay a time range.
///
/// Brokers accept such a commit only while the group has no active members, so stop every
/// member (scale the stage to zero) first; an active group's refusal is thrown as `.state`.
/// Each call runs on a thread of its own with a handle of its own, destroyed before it returns.
public struct KafkaGroupOffsets: Sendable {
    public let settings: ClientSettings
    public let group: String
    private let logger: Logger

    /// Validates the settings (every problem at once) without connecting.
    public init(settings: ClientSettings, group: String, logger: Logger) throws(KafkaError) {
        _ = try RDKafkaConfig.groupOffsets(settings, group: group)
        self.settings = settings
        self.group = group
        self.logger = logger
    }

    /// The group's committed offsets for every partition of `topics`; nil where it has none.
    public func committed(topics: [String], timeout: Duration = .seconds(30))
        async throws(KafkaError) -> [TopicPartition: Int64?] {
        try await blocking { (rk, ms) throws(KafkaError) in
            let partitions = try Self.partitions(rk, topics, timeoutMs: ms)
            return try Self.committed(rk, partitions, timeoutMs: ms)
        }
    }

    /// Moves the group's offsets for every partition of `topics` to `target` and reads them
    /// back; with `dryRun` only computes the change. Returns one change per partition.
    public func reset(topics: [String], to target: OffsetResetTarget, dryRun: Bool = false,
                      timeout: Duration = .seconds(30)) async throws(KafkaError) -> [GroupOffsetChange] {
        let group = self.group
        return try await blocking { (rk, ms) throws(KafkaError) in
            let partitions = try Self.partitions(rk, topics, timeoutMs: ms)
            let before = try Self.committed(rk, partitions, timeoutMs: ms)
            let targets = try Self.offsets(rk, partitions, target, timeoutMs: ms)
            var after = targets.mapValues { Optional($0) }
            if !dryRun {
                let list = RDKafkaTopicPartitionList(offsets: targets)
                let err = rd_kafka_commit(rk, list.pointer, 0)
                switch err {
                case RD_KAFKA_RESP_ERR_NO_ERROR:
                    break
                case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
                     RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
                    throw KafkaError(code: .state, detail: "group \(group) has active members (\(KafkaError(err).detail)): "
                        + "stop every member of the group first", status: err.rawValue)
                default:
                    throw KafkaError(err, detail: "commit of group \(group)'s offsets: \(KafkaError(err).detail)")
                }
                after = try Self.committed(rk, partitions, timeoutMs: ms)
            }
            return partitions.map { tp in
                GroupOffsetChange(partition: tp, before: before[tp] ?? nil, after: (after[tp] ?? nil) ?? -1)
            }
        }
    }

    // MARK: Blocking parts (dedicated threads only)

    private func blocking<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer, Int32) throws(KafkaError) -> T)
        async throws(KafkaError) -> T {
        let (settings, group, logger) = (self.settings, self.group, self.logger)
        let result: Result<T, KafkaError> = await onDedicatedThread("vigil-offsets") {
            do throws(KafkaError) {
                let handle = try RDKafkaHandle(type: RD_KAFKA_CONSUMER,
                                               config: try RDKafkaConfig.groupOffsets(settings, group: group),
                                               context: RDKafkaContext(logger: logger))
                defer {
                    _ = rd_kafka_consumer_close(handle.pointer)
                    handle.destroy()
                }
                rd_kafka_poll_set_consumer(handle.pointer)
                return .success(try body(handle.pointer, 30_000))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Every partition of the topics, sorted; unknown topics are thrown.
    private static func partitions(_ rk: OpaquePointer, _ topics: [String], timeoutMs: Int32) throws(KafkaError) -> [TopicPartition] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 1, nil, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err, detail: "metadata: \(KafkaError(err).detail)") }
        defer { rd_kafka_metadata_destroy(metadata) }
        var found: [String: [TopicPartition]] = [:]
        let md = metadata.pointee
        for i in 0..<Int(md.topic_cnt) {
            let t = md.topics[i]
            let name = String(cString: t.topic)
            guard topics.contains(name), t.err == RD_KAFKA_RESP_ERR_NO_ERROR, t.partition_cnt > 0 else { continue }
            found[name] = (0..<Int(t.partition_cnt)).map { TopicPartition(name, t.partitions[$0].id) }
        }
        let missing = topics.filter { found[$0] == nil }
        guard missing.isEmpty else {
            throw KafkaError(code: .unknownTopicOrPartition, detail: "unknown topic(s): \(missing.joined(separator: ", "))")
        }
        return found.values.flatMap { $0 }.sorted()
    }

    private static func committed(_ rk: OpaquePointer, _ partitions: [TopicPartition],
                                  timeoutMs: Int32) throws(KafkaError) -> [TopicPartition: Int64?] {
        let list = RDKafkaTopicPartitionList(partitions)
        let err = rd_kafka_committed(rk, list.pointer, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, detail: "committed offsets: \(KafkaError(err).detail)") }
        var offsets: [TopicPartition: Int64?] = [:]
        for (tp, offset, _) in RDKafkaTopicPartitionList.entries(of: list.pointer) {
            offsets[tp] = offset >= 0 ? offset : nil
        }
        return offsets
    }

    /// The offsets `target` names for each partition.
    private static func offsets(_ rk: OpaquePointer, _ partitions: [TopicPartition], _ target: OffsetResetTarget,
                                timeoutMs: Int32) throws(KafkaError) -> [TopicPartition: Int64] {
        var watermarks: [TopicPartition: (low: Int64, high: Int64)] = [:]
        for tp in partitions {
            var low: Int64 = 0
            var high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(rk, tp.topic, tp.partition, &low, &high, timeoutMs)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, detail: "\(tp) watermarks: \(KafkaError(err).detail)") }
            watermarks[tp] = (low, high)
        }
        switch target {
        case .earliest:
            return watermarks.mapValues(\.low)
        case .latest:
            return watermarks.mapValues(\.high)
        case .time(let ms):
            let list = RDKafkaTopicPartitionList(offsets: Dictionary(uniqueKeysWithValues: partitions.map { ($0, ms) }))
            let err = rd_kafka_offsets_for_times(rk, list.pointer, timeoutMs)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, detail: "offsets for time \(ms): \(KafkaError(err).detail)") }
            var offsets: [TopicPartition: Int64] = [:]
            for (tp, offset, perr) in RDKafkaTopicPartitionList.entries(of: list.pointer) {
                guard perr == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(perr, detail: "\(tp) offset for time \(ms): \(KafkaError(perr).detail)") }
                guard let (low, high) = watermarks[tp] else { continue }
                // -1: no record at or after the time; start at the end.
                let answer = offset >= 0 ? offset : high
                // Kafka's answer is the earliest offset whose timestamp is at or after the time:
                // the record before it is earlier. Check it by reading those two records; a broker
                // that answers otherwise (Tansu ignores the time) gets a scan from the start.
                let checked = try firstAtOrAfter(rk, tp, time: ms, from: max(low, answer - 1), high: high, timeoutMs: timeoutMs)
                offsets[tp] = checked == answer ? answer
                    : try firstAtOrAfter(rk, tp, time: ms, from: low, high: high, timeoutMs: timeoutMs)
            }
            return offsets
        }
    }

    /// The first offset in `from..<high` whose record's timestamp is at or after `time`, read
    /// forward from `from` (assigned without the group); `high` when there is none.
    private static func firstAtOrAfter(_ rk: OpaquePointer, _ tp: TopicPartition, time: Int64, from: Int64, high: Int64,
                                       timeoutMs: Int32) throws(KafkaError) -> Int64 {
        guard from < high else { return high }
        let list = RDKafkaTopicPartitionList([tp], offsets: [tp: from])
        let err = rd_kafka_assign(rk, list.pointer)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, detail: "assign \(tp)") }
        defer { _ = rd_kafka_assign(rk, nil) }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutMs))
        while ContinuousClock.now < deadline {
            guard let message = rd_kafka_consumer_poll(rk, 100) else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            var kind = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            if rd_kafka_message_timestamp(message, &kind) >= time { return m.offset }
            if m.offset + 1 >= high { return high }
        }
        throw KafkaError(code: .timedOut, detail: "\(tp): no record read from offset \(from) within \(timeoutMs) ms")
    }
}
