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

    /// `vigil-source-topic`, `-partition`, `-offset` and, for a batch element, `-index`: where
    /// a repartition or dead-letter record came from.
    func appendHeaders(to headers: inout [KafkaHeader]) {
        headers.append(KafkaHeader(key: RepartitionCodec.Header.sourceTopic, string: topic))
        headers.append(KafkaHeader(key: RepartitionCodec.Header.sourcePartition, string: String(partition)))
        headers.append(KafkaHeader(key: RepartitionCodec.Header.sourceOffset, string: String(offset)))
        if let index { headers.append(KafkaHeader(key: RepartitionCodec.Header.sourceIndex, string: String(index))) }
    }

    public var description: String {
        "\(topic)[\(partition)]@\(offset)" + (index.map { "#\($0)" } ?? "")
    }
}
