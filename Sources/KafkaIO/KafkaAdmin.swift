import CRdKafka
import Foundation
import Logging

/// A topic to create.
public struct NewTopic: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    /// -1 lets the broker choose (`default.replication.factor`).
    public var replicationFactor: Int32
    /// Topic configs, e.g. `cleanup.policy=compact`.
    public var configs: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What `createTopics` did for one topic.
public enum TopicCreation: Sendable, Hashable {
    case created(String)
    case alreadyExisted(String)
}

/// A topic as the cluster describes it.
public struct TopicDescription: Sendable, Hashable {
    public struct Partition: Sendable, Hashable {
        public var id: Int32
        public var leader: Int32
        public var replicas: [Int32]
    }

    public var name: String
    public var partitions: [Partition]
    /// The topic's configs as the broker reports them (empty if it does not answer DescribeConfigs).
    public var configs: [String: String]
}

/// Creates and describes topics. "Already exists" is not an error.
public final class KafkaAdmin: Sendable {
    private let handle: RDKafkaHandle

    public init(settings: ClientSettings, logger: Logger) throws(KafkaError) {
        let config = try RDKafkaConfig.admin(settings)
        handle = try RDKafkaHandle(type: RD_KAFKA_PRODUCER, config: config, context: RDKafkaContext(logger: logger))
    }

    deinit {
        let handle = self.handle
        // Destroying a handle waits for librdkafka's threads: never on the concurrency pool.
        Thread.detachNewThread { handle.destroy() }
    }

    /// Creates the topics; every failure other than "already exists" is thrown, all at once.
    @discardableResult
    public func createTopics(_ topics: [NewTopic], timeout: Duration = .seconds(30)) async throws(KafkaError) -> [TopicCreation] {
        let handle = self.handle
        let ms = Int32(timeout.positiveMilliseconds ?? 30_000)
        let result = await onDedicatedThread("vigil-admin") {
            KafkaAdmin.createTopicsBlocking(handle.pointer, topics, timeoutMs: ms)
        }
        return try result.get()
    }

    /// Describes topics (partitions, leaders, replicas, configs). Unknown topics are thrown.
    public func describeTopics(_ names: [String], timeout: Duration = .seconds(30)) async throws(KafkaError) -> [TopicDescription] {
        let handle = self.handle
        let ms = Int32(timeout.positiveMilliseconds ?? 30_000)
        let result = await onDedicatedThread("vigil-admin") {
            KafkaAdmin.describeBlocking(handle.pointer, names, timeoutMs: ms)
        }
        return try result.get()
    }

    /// A consumer group's committed offsets for `partitions` (the next offset it will read;
    /// -1001 where it has committed none). What lag is measured against: on brokers whose
    /// ListOffsets answer is wrong (Tansu, DESIGN.md decision 2) compare with known ends.
    public func committedOffsets(group: String, partitions: [TopicPartition],
                                 timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicPartition: Int64] {
        let handle = self.handle
        let ms = Int32(timeout.positiveMilliseconds ?? 10_000)
        let result = await onDedicatedThread("vigil-admin") {
            KafkaAdmin.committedBlocking(handle.pointer, group: group, partitions, timeoutMs: ms)
        }
        return try result.get()
    }

    // MARK: Blocking parts (dedicated threads only)

    private static func committedBlocking(_ rk: OpaquePointer, group: String, _ partitions: [TopicPartition],
                                          timeoutMs: Int32) -> Result<[TopicPartition: Int64], KafkaError> {
        let list = RDKafkaTopicPartitionList(partitions)
        guard let queue = rd_kafka_queue_new(rk) else { return .failure(KafkaError(code: .other, detail: "no queue")) }
        defer { rd_kafka_queue_destroy(queue) }
        // The request copies the list.
        var request: [OpaquePointer?] = withExtendedLifetime(list) { [rd_kafka_ListConsumerGroupOffsets_new(group, list.pointer)] }
        defer { rd_kafka_ListConsumerGroupOffsets_destroy_array(&request, 1) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        request.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_ListConsumerGroupOffsets(rk, buffer.baseAddress, 1, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1_000) else {
            return .failure(KafkaError(code: .timedOut, detail: "ListConsumerGroupOffsets got no answer in \(timeoutMs) ms"))
        }
        defer { rd_kafka_event_destroy(event) }
        let eventErr = rd_kafka_event_error(event)
        guard eventErr == RD_KAFKA_RESP_ERR_NO_ERROR, let result = rd_kafka_event_ListConsumerGroupOffsets_result(event) else {
            return .failure(KafkaError(eventErr, detail: rd_kafka_event_error_string(event).map { String(cString: $0) }))
        }
        var count = 0
        guard let groups = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &count), count > 0,
              let first = groups[0] else { return .success([:]) }
        if let error = rd_kafka_group_result_error(first) {
            return .failure(KafkaError(rd_kafka_error_code(error),
                                       detail: rd_kafka_error_string(error).map { String(cString: $0) }))
        }
        guard let offsets = rd_kafka_group_result_partitions(first) else { return .success([:]) }
        var out: [TopicPartition: Int64] = [:]
        for (partition, offset, err) in RDKafkaTopicPartitionList.entries(of: offsets) where err == RD_KAFKA_RESP_ERR_NO_ERROR {
            out[partition] = offset
        }
        return .success(out)
    }

    private static func createTopicsBlocking(_ rk: OpaquePointer, _ topics: [NewTopic],
                                             timeoutMs: Int32) -> Result<[TopicCreation], KafkaError> {
        var problems: [SettingsProblem] = []
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            var errstr = [CChar](repeating: 0, count: 512)
            guard let nt = rd_kafka_NewTopic_new(topic.name, topic.partitions, topic.replicationFactor, &errstr, errstr.count) else {
                problems.append(SettingsProblem(key: "topics.\(topic.name)", message: String(cChars: errstr)))
                continue
            }
            newTopics.append(nt)
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(nt, key, value)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    problems.append(SettingsProblem(key: "topics.\(topic.name).\(key)", message: "\(KafkaError(err).detail)"))
                }
            }
        }
        if !problems.isEmpty { return .failure(.configuration(problems)) }
        guard let queue = rd_kafka_queue_new(rk) else { return .failure(KafkaError(code: .other, detail: "no queue")) }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(rk, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1_000) else {
            return .failure(KafkaError(code: .timedOut, detail: "CreateTopics got no answer in \(timeoutMs) ms"))
        }
        defer { rd_kafka_event_destroy(event) }
        let eventErr = rd_kafka_event_error(event)
        guard eventErr == RD_KAFKA_RESP_ERR_NO_ERROR, let result = rd_kafka_event_CreateTopics_result(event) else {
            return .failure(KafkaError(eventErr, detail: rd_kafka_event_error_string(event).map { String(cString: $0) }))
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return .success([]) }
        var outcomes: [TopicCreation] = []
        var failures: [SettingsProblem] = []
        var firstError: KafkaError?
        for i in 0..<count {
            guard let r = results[i] else { continue }
            let name = String(cString: rd_kafka_topic_result_name(r))
            let err = rd_kafka_topic_result_error(r)
            switch err {
            case RD_KAFKA_RESP_ERR_NO_ERROR: outcomes.append(.created(name))
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: outcomes.append(.alreadyExisted(name))
            default:
                let detail = rd_kafka_topic_result_error_string(r).map { String(cString: $0) }
                let error = KafkaError(err, detail: detail)
                firstError = firstError ?? error
                failures.append(SettingsProblem(key: "topics.\(name)", message: error.detail))
            }
        }
        if var error = firstError {
            error.detail = "could not create \(failures.count) topic(s)"
            error.problems = failures
            return .failure(error)
        }
        return .success(outcomes)
    }

    private static func describeBlocking(_ rk: OpaquePointer, _ names: [String],
                                         timeoutMs: Int32) -> Result<[TopicDescription], KafkaError> {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 1, nil, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { return .failure(KafkaError(err)) }
        defer { rd_kafka_metadata_destroy(metadata) }
        var found: [String: TopicDescription] = [:]
        let md = metadata.pointee
        for i in 0..<Int(md.topic_cnt) {
            let t = md.topics[i]
            let name = String(cString: t.topic)
            guard names.contains(name), t.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let partitions = (0..<Int(t.partition_cnt)).map { j -> TopicDescription.Partition in
                let p = t.partitions[j]
                let replicas = (0..<Int(p.replica_cnt)).map { p.replicas[$0] }
                return TopicDescription.Partition(id: p.id, leader: p.leader, replicas: replicas)
            }.sorted { $0.id < $1.id }
            found[name] = TopicDescription(name: name, partitions: partitions, configs: [:])
        }
        let missing = names.filter { found[$0] == nil }
        if !missing.isEmpty {
            return .failure(KafkaError(code: .unknownTopicOrPartition, detail: "unknown topic(s): \(missing.joined(separator: ", "))"))
        }
        for name in names {
            found[name]?.configs = describeConfigs(rk, name, timeoutMs: timeoutMs)
        }
        return .success(names.compactMap { found[$0] })
    }

    /// Best effort: brokers that do not implement DescribeConfigs leave it empty.
    private static func describeConfigs(_ rk: OpaquePointer, _ topic: String, timeoutMs: Int32) -> [String: String] {
        guard let queue = rd_kafka_queue_new(rk) else { return [:] }
        defer { rd_kafka_queue_destroy(queue) }
        var resources: [OpaquePointer?] = [rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)]
        defer { resources.forEach { rd_kafka_ConfigResource_destroy($0) } }
        resources.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_DescribeConfigs(rk, buffer.baseAddress, buffer.count, nil, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs) else { return [:] }
        defer { rd_kafka_event_destroy(event) }
        guard rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR,
              let result = rd_kafka_event_DescribeConfigs_result(event) else { return [:] }
        var count = 0
        guard let res = rd_kafka_DescribeConfigs_result_resources(result, &count), count > 0, let r = res[0],
              rd_kafka_ConfigResource_error(r) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        var entryCount = 0
        guard let entries = rd_kafka_ConfigResource_configs(r, &entryCount) else { return [:] }
        var configs: [String: String] = [:]
        for i in 0..<entryCount {
            guard let e = entries[i], let value = rd_kafka_ConfigEntry_value(e) else { continue }
            configs[String(cString: rd_kafka_ConfigEntry_name(e))] = String(cString: value)
        }
        return configs
    }
}
