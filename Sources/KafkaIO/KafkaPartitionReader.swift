import CRdKafka
import Logging

/// Reads one partition from a given offset up to a given end, outside any consumer group
/// (assign mode: no group, no commits, no rebalances). Vigil uses it to restore state from a
/// changelog partition before the partition's input is processed.
///
/// The end is the caller's: on brokers whose ListOffsets answer is not the true end (Tansu,
/// DESIGN.md decision 2), produce a marker record to the partition and read to its offset.
/// Each `read` runs on a thread of its own with a handle of its own, destroyed before it
/// returns; nothing blocks the Swift pool.
public struct KafkaPartitionReader: Sendable {
    public let settings: ClientSettings
    public let topic: String
    public let partition: Int32
    private let logger: Logger

    /// Validates the settings (every problem at once) without connecting.
    public init(settings: ClientSettings, topic: String, partition: Int32, logger: Logger) throws(KafkaError) {
        _ = try RDKafkaConfig.reader(settings)
        self.settings = settings
        self.topic = topic
        self.partition = partition
        self.logger = logger
    }

    /// Folds every record with `start <= offset < end` into `initial`, in offset order
    /// (offsets a compacted partition no longer holds are simply absent). Returns as soon as
    /// the record at `end - 1` or a later one was seen, or at once when `end <= start`.
    /// Throws `.timedOut` when the end was not reached within `timeout`, and on fatal errors.
    public func read<State: Sendable>(from start: Int64 = 0, to end: Int64, timeout: Duration,
                                      into initial: State,
                                      _ update: @escaping @Sendable (inout State, ConsumerRecord) -> Void)
        async throws(KafkaError) -> State {
        guard end > start else { return initial }
        let (settings, topic, partition, logger) = (self.settings, self.topic, self.partition, self.logger)
        let result: Result<State, KafkaError> = await onDedicatedThread("vigil-reader") {
            do throws(KafkaError) {
                return .success(try Self.readBlocking(settings: settings, topic: topic, partition: partition,
                                                      start: start, end: end, timeout: timeout, logger: logger,
                                                      initial: initial, update: update))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func readBlocking<State>(settings: ClientSettings, topic: String, partition: Int32,
                                            start: Int64, end: Int64, timeout: Duration, logger: Logger,
                                            initial: State, update: (inout State, ConsumerRecord) -> Void)
        throws(KafkaError) -> State {
        let handle = try RDKafkaHandle(type: RD_KAFKA_CONSUMER, config: try RDKafkaConfig.reader(settings),
                                       context: RDKafkaContext(logger: logger))
        rd_kafka_poll_set_consumer(handle.pointer)
        defer {
            _ = rd_kafka_consumer_close(handle.pointer)
            handle.destroy()
        }
        let tp = TopicPartition(topic, partition)
        let list = RDKafkaTopicPartitionList([tp], offsets: [tp: start])
        let err = rd_kafka_assign(handle.pointer, list.pointer)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, detail: "assign \(tp)") }
        var state = initial
        var next = start
        let deadline = ContinuousClock.now + timeout
        while next < end {
            if let fatal = handle.recordedFatalError() { throw fatal }
            guard ContinuousClock.now < deadline else {
                throw KafkaError(code: .timedOut, detail: "\(tp): read to offset \(next) of \(end) within \(timeout)")
            }
            guard let message = rd_kafka_consumer_poll(handle.pointer, 100) else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let error = KafkaError(m.err, detail: rd_kafka_message_errstr(message).map { String(cString: $0) })
                logger.warning("partition reader error", metadata: ["partition": "\(tp)", "error": "\(error)"])
                continue
            }
            if m.offset >= end { break }
            update(&state, ConsumerLoop.record(of: message, topic: topic))
            next = m.offset + 1
        }
        return state
    }
}
