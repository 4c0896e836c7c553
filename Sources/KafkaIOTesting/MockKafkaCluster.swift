import CRdKafka
import KafkaIO

/// librdkafka's in-process mock cluster, for faults a real broker cannot produce on cue:
/// request errors, a broker going down mid-fetch, slow round trips. Clients connect to
/// `bootstrapServers` like to any cluster. Use a real broker for everything else.
public final class MockKafkaCluster: @unchecked Sendable {
    // @unchecked Sendable: librdkafka's mock-cluster API is thread-safe (each call is
    // an operation sent to the cluster's own thread); the pointers are immutable.
    private let owner: OpaquePointer
    private let cluster: OpaquePointer

    /// Kafka API keys the tests inject errors into.
    public enum API: Int16, Sendable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9
        case findCoordinator = 10, joinGroup = 11, heartbeat = 12, syncGroup = 14, initProducerID = 22
    }

    /// Kafka protocol error codes the tests inject.
    public enum BrokerError: Int32, Sendable {
        case unknownTopicOrPartition = 3, notLeaderForPartition = 6, requestTimedOut = 7
        case coordinatorNotAvailable = 15, notCoordinator = 16, notEnoughReplicas = 19
        case topicAuthorizationFailed = 29, groupAuthorizationFailed = 30
    }

    public init(brokers: Int32 = 1) throws {
        var errstr = [CChar](repeating: 0, count: 256)
        let conf = rd_kafka_conf_new()
        guard let owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(code: .other, detail: "mock cluster owner handle: \(reason)")
        }
        guard let cluster = rd_kafka_mock_cluster_new(owner, brokers) else {
            rd_kafka_destroy(owner)
            throw KafkaError(code: .other, detail: "rd_kafka_mock_cluster_new failed")
        }
        self.owner = owner
        self.cluster = cluster
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    public var bootstrapServers: [String] {
        String(cString: rd_kafka_mock_cluster_bootstraps(cluster)).split(separator: ",").map(String.init)
    }

    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, replicationFactor)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .other, detail: String(cString: rd_kafka_err2str(err)))
        }
    }

    /// The next `errors.count` requests of `api` (to any broker) fail with these errors, in order.
    public func pushRequestErrors(_ api: API, _ errors: [BrokerError]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        codes.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Takes a broker down (connections are closed and refused) or brings it back.
    public func setBroker(_ id: Int32, up: Bool) {
        _ = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
    }

    /// Moves a partition's leadership to broker `leader`; -1 leaves it without a leader (records
    /// for it wait in the producer's queue until they time out).
    public func setLeader(_ topic: String, partition: Int32, _ leader: Int32) {
        _ = rd_kafka_mock_partition_set_leader(cluster, topic, partition, leader)
    }

    /// Adds round-trip latency to a broker.
    public func setRoundTrip(_ id: Int32, milliseconds: Int32) {
        _ = rd_kafka_mock_broker_set_rtt(cluster, id, milliseconds)
    }
}
