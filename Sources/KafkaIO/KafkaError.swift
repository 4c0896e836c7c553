import CRdKafka

/// The one error type of KafkaIO. librdkafka's status codes are translated here,
/// at the module boundary; `status` keeps the number for logs and support.
public struct KafkaError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, in the terms a caller acts on.
    public enum Code: String, Sendable, Equatable {
        /// Settings were refused before any connection; see `problems`.
        case configuration
        /// The broker could not be reached or the connection broke.
        case transport
        /// SASL/SSL authentication failed.
        case authentication
        /// The broker denied the operation (ACLs).
        case authorization
        /// The topic or partition does not exist (or is not known yet).
        case unknownTopicOrPartition
        /// A record is larger than the broker or client allows.
        case recordTooLarge
        /// librdkafka's local queue is full (KafkaIO waits instead of failing; seen only with a deadline).
        case queueFull
        /// An operation did not finish in time.
        case timedOut
        /// The call is not valid in the handle's state (e.g. partition not assigned).
        case state
        /// The client is closed.
        case closed
        /// The broker answered with an error not covered above.
        case broker
        /// librdkafka hit a fatal error; the handle must be recreated.
        case fatal
        /// Anything else.
        case other
    }

    public var code: Code
    /// A human sentence, from librdkafka where it said one.
    public var detail: String
    /// librdkafka's `rd_kafka_resp_err_t` number, when the error came from it.
    public var status: Int32?
    /// The handle cannot continue; the owner must recreate it.
    public var isFatal: Bool
    /// Trying the same operation again may succeed.
    public var isRetriable: Bool
    /// For `.configuration`: every problem found, each with its key.
    public var problems: [SettingsProblem]

    public init(code: Code, detail: String, status: Int32? = nil, isFatal: Bool = false,
                isRetriable: Bool = false, problems: [SettingsProblem] = []) {
        self.code = code
        self.detail = detail
        self.status = status
        self.isFatal = isFatal
        self.isRetriable = isRetriable
        self.problems = problems
    }

    public var description: String {
        var text = "KafkaError.\(code.rawValue): \(detail)"
        if let status { text += " (librdkafka status \(status))" }
        for problem in problems { text += "\n  - \(problem)" }
        return text
    }

    static let closedHandle = KafkaError(code: .closed, detail: "the Kafka client is closed")

    static func configuration(_ problems: [SettingsProblem]) -> KafkaError {
        KafkaError(code: .configuration,
                   detail: "\(problems.count) problem\(problems.count == 1 ? "" : "s") in the Kafka settings",
                   problems: problems)
    }
}

extension KafkaError {
    /// Translates a librdkafka status code (with an optional message) into a KafkaError.
    init(_ err: rd_kafka_resp_err_t, detail: String? = nil, fatal: Bool = false) {
        let text = detail ?? String(cString: rd_kafka_err2str(err))
        self.init(code: Self.code(for: err), detail: text, status: err.rawValue,
                  isFatal: fatal || err == RD_KAFKA_RESP_ERR__FATAL,
                  isRetriable: Self.retriable(err))
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        let err = rd_kafka_error_code(error)
        let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(err))
        self.init(code: Self.code(for: err), detail: text, status: err.rawValue,
                  isFatal: rd_kafka_error_is_fatal(error) != 0,
                  isRetriable: rd_kafka_error_is_retriable(error) != 0 || Self.retriable(err))
    }

    private static func code(for err: rd_kafka_resp_err_t) -> Code {
        switch err {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE,
             RD_KAFKA_RESP_ERR__NODE_UPDATE, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
             RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
             RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
            return .transport
        case RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
             RD_KAFKA_RESP_ERR__SSL, RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM,
             RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
            return .authentication
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
             RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
            return .authorization
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
             RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return .unknownTopicOrPartition
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
            return .recordTooLarge
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
            return .queueFull
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
             RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
            return .timedOut
        case RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
            return .state
        case RD_KAFKA_RESP_ERR__DESTROY:
            return .closed
        case RD_KAFKA_RESP_ERR__FATAL:
            return .fatal
        case RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR__INVALID_TYPE, RD_KAFKA_RESP_ERR__UNKNOWN_PROTOCOL:
            return .configuration
        default:
            return err.rawValue > 0 ? .broker : .other
        }
    }

    private static func retriable(_ err: rd_kafka_resp_err_t) -> Bool {
        switch err {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
             RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__QUEUE_FULL,
             RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
             RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
             RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
             RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
             RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return true
        default:
            return false
        }
    }
}
