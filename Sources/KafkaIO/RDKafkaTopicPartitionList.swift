import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t` built from Swift values.
final class RDKafkaTopicPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(_ partitions: some Collection<TopicPartition>, offsets: [TopicPartition: Int64] = [:]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(clamping: partitions.count))
        for tp in partitions {
            let entry = rd_kafka_topic_partition_list_add(pointer, tp.topic, tp.partition)
            if let offset = offsets[tp] { entry?.pointee.offset = offset }
        }
    }

    convenience init(offsets: [TopicPartition: Int64]) {
        self.init(offsets.keys.sorted(), offsets: offsets)
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    static func partitions(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        entries(of: list).map(\.0)
    }

    /// Each entry with its offset and error code.
    static func entries(of list: UnsafePointer<rd_kafka_topic_partition_list_t>)
        -> [(TopicPartition, offset: Int64, err: rd_kafka_resp_err_t)] {
        guard let elems = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { i in
            let e = elems[i]
            return (TopicPartition(e.topic.map { String(cString: $0) } ?? "", e.partition), e.offset, e.err)
        }
    }
}

/// Topic names by librdkafka topic handle, so a record's topic String is made once per
/// topic, not once per record.
///
/// - Important: used only from the one poll thread that owns the handle.
final class TopicNameCache: @unchecked Sendable {
    // @unchecked Sendable: touched only on its handle's poll thread (see above).
    private var names: [OpaquePointer: String] = [:]

    func name(of rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        if let name = names[rkt] { return name }
        let name = String(cString: rd_kafka_topic_name(rkt))
        names[rkt] = name
        return name
    }
}
