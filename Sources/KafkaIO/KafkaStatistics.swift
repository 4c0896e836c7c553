import Foundation

/// A librdkafka statistics report (`statistics.interval.ms`), with the numbers Vigil
/// watches pulled out and the whole JSON kept for anything else.
public struct KafkaStatistics: Sendable {
    public struct Partition: Sendable, Hashable {
        public var topicPartition: TopicPartition
        /// Messages between the committed offset and the high watermark (-1 before the
        /// first commit or when unknown): the group's lag as Kafka tooling reports it.
        public var consumerLag: Int64
        /// Messages between the stored (done) offset and the high watermark (-1 when unknown).
        public var consumerLagStored: Int64
        public var highWatermark: Int64
        public var committedOffset: Int64
        public var storedOffset: Int64
    }

    /// The client instance name (`vigil#consumer-1`).
    public var name: String
    /// Messages in the producer queue (or consumer fetch queues).
    public var queuedMessages: Int64
    /// Only partitions assigned to (or produced by) this client, never the internal `-1`.
    public var partitions: [Partition]
    public var json: String

    /// Parses librdkafka's statistics JSON (not on the hot path: once per interval).
    public init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return nil
        }
        self.json = json
        name = object["name"] as? String ?? ""
        queuedMessages = Self.int(object["msg_cnt"])
        var partitions: [Partition] = []
        for (topic, value) in object["topics"] as? [String: Any] ?? [:] {
            guard let parts = (value as? [String: Any])?["partitions"] as? [String: Any] else { continue }
            for (key, raw) in parts {
                guard let id = Int32(key), id >= 0, let p = raw as? [String: Any] else { continue }
                let desired = p["desired"] as? Bool ?? false
                let assigned = p["fetch_state"] as? String
                if !desired && (assigned == nil || assigned == "none") && Self.int(p["txmsgs"]) == 0 { continue }
                partitions.append(Partition(topicPartition: TopicPartition(topic, id),
                                            consumerLag: Self.int(p["consumer_lag"]),
                                            consumerLagStored: Self.int(p["consumer_lag_stored"]),
                                            highWatermark: Self.int(p["hi_offset"]),
                                            committedOffset: Self.int(p["committed_offset"]),
                                            storedOffset: Self.int(p["stored_offset"])))
            }
        }
        self.partitions = partitions.sorted { $0.topicPartition < $1.topicPartition }
    }

    private static func int(_ value: Any?) -> Int64 {
        (value as? NSNumber)?.int64Value ?? -1
    }
}
