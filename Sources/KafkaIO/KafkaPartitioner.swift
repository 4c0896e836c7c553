import CRdKafka

/// Where Vigil's producers place a keyed record: librdkafka's Java-compatible `murmur2_random`
/// partitioner (``KafkaSettings``), for a producer that picks the partition itself and must
/// agree with records the partitioner placed (a rolling upgrade mixes both).
public enum KafkaPartitioner {
    /// The partition of `key` among `partitions` (> 0): `(murmur2(key) & 0x7fffffff) % partitions`,
    /// computed by librdkafka itself.
    public static func murmur2(_ key: [UInt8], partitions: Int32) -> Int32 {
        key.withUnsafeBytes { murmur2($0, partitions: partitions) }
    }

    /// The partition of the UTF-8 bytes of `key`.
    public static func murmur2(_ key: String, partitions: Int32) -> Int32 {
        var key = key
        return key.withUTF8 { murmur2(UnsafeRawBufferPointer($0), partitions: partitions) }
    }

    private static func murmur2(_ key: UnsafeRawBufferPointer, partitions: Int32) -> Int32 {
        precondition(partitions > 0, "a topic has at least one partition")
        return rd_kafka_msg_partitioner_murmur2(nil, key.baseAddress, key.count, partitions, nil, nil)
    }
}
