import Metrics
import Synchronization

/// Counts a stage keeps; every stage counts the records the broker would not take.
public protocol StageStatistics: Sendable {
    init()
    var deliveryFailures: Int { get set }
}

/// State a stage's workers and the producer's delivery callbacks share: counts and the
/// first delivery failure (which ends the stage's attempt; it starts again with new clients).
final class StageShared<Statistics: StageStatistics>: Sendable {
    private let state = Mutex<(statistics: Statistics, failure: RuntimeError?)>((Statistics(), nil))

    func update(_ body: (inout Statistics) -> Void) {
        state.withLock { body(&$0.statistics) }
    }

    func fail(_ error: RuntimeError) {
        state.withLock { s in
            s.statistics.deliveryFailures += 1
            if s.failure == nil { s.failure = error }
        }
    }

    /// A record the producer could not deliver to `topic`: counted
    /// (`vigil_produce_failures_total{topic}`) and failing the attempt like ``fail(_:)``.
    func failDelivery(_ error: RuntimeError, topic: String) {
        Counter(label: "vigil_produce_failures_total", dimensions: [("topic", topic)]).increment()
        fail(error)
    }

    /// Forgets the failure: the stage starts again with new clients.
    func recover() {
        state.withLock { $0.failure = nil }
    }

    var statistics: Statistics { state.withLock { $0.statistics } }
    var failure: RuntimeError? { state.withLock { $0.failure } }
}

typealias IngestShared = StageShared<IngestStatistics>
typealias DetectShared = StageShared<DetectStatistics>
