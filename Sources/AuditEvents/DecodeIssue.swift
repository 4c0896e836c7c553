/// Why a record (or one element of a batch record) was skipped or
/// dead-lettered. `reason` is a closed set, safe as a metric label; `detail`
/// is for people and the dead-letter record's headers.
public struct DecodeIssue: Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        // Skipped: nothing to decode, counted.
        /// An empty payload (a Kafka tombstone).
        case emptyRecord = "empty_record"
        /// A CloudWatch Logs `CONTROL_MESSAGE` (a subscription health check).
        case controlMessage = "control_message"
        /// A batch with no entries.
        case emptyBatch = "empty_batch"
        /// An Azure diagnostic record of a category other than kube-audit(-admin).
        case notKubernetesCategory = "not_kubernetes_category"

        // Dead-lettered: the record was expected to hold events and did not.
        /// Larger than ``DecoderOptions/maxRecordBytes``.
        case tooLarge = "too_large"
        case invalidUTF8 = "invalid_utf8"
        /// Not JSON, or truncated JSON.
        case malformedJSON = "malformed_json"
        /// Nested deeper than ``DecoderOptions/maxDepth``.
        case tooDeep = "too_deep"
        /// The record (or batch element) is JSON but not an object.
        case notAnObject = "not_an_object"
        /// No decoder recognizes the shape (auto detection).
        case unrecognizedFormat = "unrecognized_format"
        /// A field the format needs is absent.
        case missingField = "missing_field"
        /// A field the format needs has the wrong JSON type.
        case wrongType = "wrong_type"
        /// AKS `properties.log` (or a CloudWatch `message`) is not a JSON object.
        case embeddedLogNotJSON = "embedded_log_not_json"
        /// The parser failed for a reason of its own (out of memory).
        case parserFailure = "parser_failure"
        /// A binary record (Vigil's compact encoding) that is truncated or damaged.
        case corruptRecord = "corrupt_record"

        /// True for reasons that skip; false for those that dead-letter.
        public var isSkip: Bool {
            switch self {
            case .emptyRecord, .controlMessage, .emptyBatch, .notKubernetesCategory: return true
            default: return false
            }
        }
    }

    public var reason: Reason
    public var detail: String
    /// The element's index when the record is a batch; nil for a single record.
    public var position: Int?

    public init(_ reason: Reason, _ detail: String, position: Int? = nil) {
        self.reason = reason
        self.detail = detail
        self.position = position
    }

    public var description: String {
        let at = position.map { " (batch element \($0))" } ?? ""
        return "\(reason.rawValue)\(at): \(detail)"
    }

    /// Headers the runtime puts on the dead-letter record.
    public var headers: [(key: String, value: String)] {
        var h: [(key: String, value: String)] = [
            ("vigil-dlq-reason", reason.rawValue),
            ("vigil-dlq-detail", detail),
        ]
        if let position { h.append(("vigil-dlq-position", String(position))) }
        return h
    }
}
