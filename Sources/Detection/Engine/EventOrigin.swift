/// Where an event came from, carried into alerts so an alert can be traced to
/// its raw record.
public enum EventOrigin: Sendable, Hashable, Comparable, Codable {
    /// A Kafka record.
    case kafka(topic: String, partition: Int32, offset: Int64)
    /// A line of a log file (1-based).
    case file(path: String, line: Int)

    /// `topic/partition/offset` or `path:line`: a short, stable text.
    public var description: String {
        switch self {
        case .kafka(let topic, let partition, let offset): return "\(topic)/\(partition)/\(offset)"
        case .file(let path, let line): return "\(path):\(line)"
        }
    }

    /// A total order (Kafka before files; then by topic, partition, offset or
    /// path, line), used to keep capped reference lists independent of arrival order.
    public static func < (a: EventOrigin, b: EventOrigin) -> Bool {
        switch (a, b) {
        case let (.kafka(t1, p1, o1), .kafka(t2, p2, o2)): return (t1, p1, o1) < (t2, p2, o2)
        case let (.file(f1, l1), .file(f2, l2)): return (f1, l1) < (f2, l2)
        case (.kafka, .file): return true
        case (.file, .kafka): return false
        }
    }
}
