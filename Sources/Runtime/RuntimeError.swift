import KafkaIO

/// The one error type of Runtime: infrastructure and configuration failures that end
/// a stage. A bad record is never thrown: it is decoded, skipped or dead-lettered.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The topology file has problems (see ``problems``).
        case invalidTopology
        /// Enrichment data (GeoIP file) could not be opened.
        case enrichment
        /// A Kafka client failed (connect, create topics, produce, commit).
        case kafka
        /// A produced record was not acknowledged: the stage stops without marking its input done.
        case deliveryFailed
    }

    public var code: Code
    public var detail: String
    /// Every topology problem, for ``Code/invalidTopology``.
    public var problems: [TopologyProblem]

    public init(code: Code, detail: String, problems: [TopologyProblem] = []) {
        self.code = code
        self.detail = detail
        self.problems = problems
    }

    init(_ error: KafkaError, _ what: String) {
        self.init(code: .kafka, detail: "\(what): \(error)")
    }

    public var description: String {
        guard !problems.isEmpty else { return "\(code.rawValue): \(detail)" }
        return "\(detail)\n" + problems.map(\.message).joined(separator: "\n")
    }
}
