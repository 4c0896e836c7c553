import KafkaIO

/// The raw record an event came from: topic, partition, offset, and the event's index
/// when the record held several (a CloudWatch or Event Hubs batch).
public struct RawOrigin: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The event's index among the record's outcomes; nil for a record with one event.
    public var index: Int?

    public init(topic: String, partition: Int32, offset: Int64, index: Int? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.index = index
    }

    public init(_ record: ConsumerRecord, index: Int? = nil) {
        self.init(topic: record.topic, partition: record.partition, offset: record.offset, index: index)
    }

    public var description: String {
        "\(topic)[\(partition)]@\(offset)" + (index.map { "#\($0)" } ?? "")
    }
}
