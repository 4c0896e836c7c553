import Logging
import Metrics
import Observability
import Prometheus
import Runtime
import ServiceLifecycle
import Synchronization

/// The streaming stages of `vigil run` as one service: both run side by side (a failure of
/// one stops the other, as before), and a graceful shutdown cancels them, which each stage
/// turns into its bounded stop (finish the batch in hand, flush, commit, leave the group).
///
/// It returns rather than throws, keeping the first failure in ``failure``: the group then
/// shuts the HTTP listener down gracefully too, after the stages.
final class StagesService: Service, Sendable {
    let ingest: IngestStage?
    let detect: DetectStage?
    private let firstFailure = Mutex<RuntimeError?>(nil)

    init(ingest: IngestStage?, detect: DetectStage?) {
        self.ingest = ingest
        self.detect = detect
    }

    var statuses: [StageStatus] { [ingest?.status, detect?.status].compactMap { $0 } }
    var failure: RuntimeError? { firstFailure.withLock { $0 } }

    func run() async {
        let ingest = self.ingest, detect = self.detect, statuses = self.statuses
        let failure: RuntimeError? = await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: RuntimeError?.self) { group in
                    if let ingest { group.addTask { await Self.outcome { () throws(RuntimeError) in try await ingest.run() } } }
                    if let detect { group.addTask { await Self.outcome { () throws(RuntimeError) in try await detect.run() } } }
                    var first: RuntimeError?
                    for await failure in group {
                        // One stage failed: stop the other one too.
                        if let failure, first == nil {
                            first = failure
                            group.cancelAll()
                        }
                    }
                    return first
                }
            }
        } onGracefulShutdown: {
            // Not ready from the first moment of the shutdown (the loops notice it between batches).
            for status in statuses { status.beginStopping() }
        }
        firstFailure.withLock { $0 = failure }
    }

    static func outcome(_ body: () async throws(RuntimeError) -> Void) async -> RuntimeError? {
        do {
            try await body()
            return nil
        } catch {
            return error
        }
    }

    /// What `/metrics`, `/health` and `/ready` answer for these stages.
    func endpoints(registry: PrometheusCollectorRegistry) -> ObservabilityServer.Endpoints {
        let ingest = self.ingest, detect = self.detect, statuses = self.statuses
        return ObservabilityServer.Endpoints(
            metrics: {
                ingest?.sampleMetrics()
                detect?.sampleMetrics()
                return registry.emitToBuffer()
            },
            health: {
                let answers = statuses.map { ($0.name, $0.health()) }
                return ProbeResult(ok: answers.allSatisfy { $0.1.ok },
                                   detail: answers.map { "\($0.0): \($0.1.detail)\n" }.joined())
            },
            ready: {
                // Each stage's phase read once: the status code and the body agree.
                let phases = statuses.map { ($0.name, $0.phase) }
                return ProbeResult(ok: phases.allSatisfy { $0.1 == .running },
                                   detail: phases.map { "\($0.0): \($0.1.rawValue)\n" }.joined())
            })
    }
}
