import Metrics
import Synchronization

/// Where a stage is in its life, for `/ready`, `/health` and `vigil_ready{stage}`.
///
/// ```
/// starting ─► joining ─► restoring ─► running ─► stopping ─► stopped
///               ▲            (onAssign)   │ (revoke of everything)
///               └─────────────────────────┘            any ─► failed
/// ```
/// Ready only while `running`: the group was joined, the assignment's state restored (the
/// detect stage reads its changelog in `onAssign`) and batches are taken. Healthy unless
/// failed, or a batch or a rebalance hook has taken longer than the stuck limit (librdkafka
/// would evict the member after `max.poll.interval.ms` anyway).
public final class StageStatus: Sendable {
    public enum Phase: String, Sendable {
        case starting, joining, restoring, running, stopping, stopped, failed
    }

    private struct State {
        var phase: Phase = .starting
        var failure: String?
        /// Since when a batch has been processing / a rebalance hook has been running.
        var batchSince: ContinuousClock.Instant?
        var hookSince: ContinuousClock.Instant?
    }

    /// `ingest` or `detect`.
    public let name: String
    /// A batch or rebalance hook running longer than this makes the stage unhealthy.
    public let stuckAfter: Duration
    private let state = Mutex(State())
    private let readyGauge: Gauge

    public init(name: String, stuckAfter: Duration) {
        self.name = name
        self.stuckAfter = stuckAfter
        readyGauge = Gauge(label: "vigil_ready", dimensions: [("stage", name)])
        readyGauge.record(0)
    }

    public var phase: Phase { state.withLock { $0.phase } }

    /// True while the stage processes its (restored) assignment.
    public var isReady: Bool { phase == .running }

    /// Healthy, or why not.
    public func health(now: ContinuousClock.Instant = .now) -> (ok: Bool, detail: String) {
        state.withLock { s in
            if s.phase == .failed { return (false, "failed: \(s.failure ?? "unknown")") }
            if let since = s.batchSince, now - since > stuckAfter {
                return (false, "stuck: one batch has been processing for \(now - since)")
            }
            if let since = s.hookSince, now - since > stuckAfter {
                return (false, "stuck: a rebalance (state restore or revoke) has been running for \(now - since)")
            }
            return (true, s.phase.rawValue)
        }
    }

    /// Runs a stage's whole life: `stopped` when it returns, `failed` when it throws.
    func track(_ body: () async throws(RuntimeError) -> Void) async throws(RuntimeError) {
        do {
            try await body()
            move(to: .stopped)
        } catch {
            fail("\(error)")
            throw error
        }
    }

    /// A shutdown began: not ready from now on (the loop notices it after the batch in hand).
    public func beginStopping() {
        move(to: .stopping)
    }

    func move(to phase: Phase) {
        let ready: Bool = state.withLock { s in
            // Terminal and shutting-down phases are not left by rebalances still finishing.
            switch (s.phase, phase) {
            case (.failed, _), (.stopped, .stopping), (.stopped, .running), (.stopped, .joining), (.stopped, .restoring),
                 (.stopping, .running), (.stopping, .joining), (.stopping, .restoring):
                return s.phase == .running
            default:
                s.phase = phase
                return phase == .running
            }
        }
        readyGauge.record(ready ? 1 : 0)
    }

    /// An attempt failed and the stage starts again with new clients (`StageLoop.run`): from
    /// `stopping` back to `starting` (not ready until its assignment is restored again).
    func restarting() {
        state.withLock { s in
            if s.phase == .stopping { s.phase = .starting }
        }
        readyGauge.record(0)
    }

    func fail(_ detail: String) {
        state.withLock { s in
            s.phase = .failed
            if s.failure == nil { s.failure = detail }
        }
        readyGauge.record(0)
    }

    func batch(started: Bool) {
        state.withLock { $0.batchSince = started ? .now : nil }
    }

    func hook(started: Bool) {
        state.withLock { $0.hookSince = started ? .now : nil }
    }
}
