/// A topic and one of its partitions.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// One record header. Kafka allows repeated keys and NULL values.
public struct KafkaHeader: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(key: String, string: String) {
        self.init(key: key, value: Array(string.utf8))
    }
}

/// A record's timestamp and who set it.
public struct KafkaTimestamp: Hashable, Sendable {
    public enum Kind: Sendable { case createTime, logAppendTime }
    public var kind: Kind
    /// Milliseconds since the Unix epoch.
    public var milliseconds: Int64

    public init(kind: Kind, milliseconds: Int64) {
        self.kind = kind
        self.milliseconds = milliseconds
    }
}

/// A record read from Kafka. A nil `value` is a tombstone, which is legal input.
public struct ConsumerRecord: Sendable, Hashable {
    /// Bytes of spare capacity a consumed record's `value` array has past its
    /// content (uninitialized): a parser that reads a little past its input,
    /// as simdjson does, can parse the value where it lies instead of copying
    /// it into a padded buffer first.
    public static let valueSpareCapacity = 64

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    public var timestamp: KafkaTimestamp?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
                headers: [KafkaHeader] = [], timestamp: KafkaTimestamp? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
    public var isTombstone: Bool { value == nil }

    /// The first header with this key.
    public func header(_ key: String) -> [UInt8]? {
        headers.first { $0.key == key }?.value
    }
}

/// A record to produce. Without a partition, librdkafka's Java-compatible murmur2
/// partitioner places it by key (random partition for a nil key).
public struct ProducerRecord: Sendable, Hashable {
    public var topic: String
    public var key: [UInt8]?
    /// nil produces a tombstone.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    public var partition: Int32?
    /// Milliseconds since the epoch; nil lets librdkafka stamp the send time.
    public var timestampMilliseconds: Int64?

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = [],
                partition: Int32? = nil, timestampMilliseconds: Int64? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.timestampMilliseconds = timestampMilliseconds
    }

    public init(topic: String, key: String?, value: String?, headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) }, headers: headers)
    }
}

/// Where the broker stored a produced record.
public struct DeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}
