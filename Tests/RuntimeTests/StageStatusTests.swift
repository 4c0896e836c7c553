@testable import Runtime
import Testing

@Suite struct StageStatusTests {
    @Test func readyOnlyWhileRunningAndNeverAgainOnceStopping() {
        let status = StageStatus(name: "detect", stuckAfter: .seconds(7))
        #expect(status.phase == .starting && !status.isReady)
        status.move(to: .joining)
        status.move(to: .restoring)
        #expect(!status.isReady && status.health().ok)
        status.move(to: .running)
        #expect(status.isReady)
        // An eager rebalance revokes everything: not ready until the next assignment is restored.
        status.move(to: .joining)
        #expect(!status.isReady)
        status.move(to: .running)
        status.beginStopping()
        // A rebalance finishing during the shutdown does not make the stage ready again.
        status.move(to: .running)
        #expect(status.phase == .stopping && !status.isReady && status.health().ok)
        status.move(to: .stopped)
        status.move(to: .running)
        #expect(status.phase == .stopped && !status.isReady)
    }

    @Test func unhealthyWhenFailedOrWhenABatchOrRebalanceRunsPastTheLimit() {
        let status = StageStatus(name: "ingest", stuckAfter: .seconds(7))
        status.move(to: .running)
        status.batch(started: true)
        #expect(status.health().ok)
        #expect(!status.health(now: .now + .seconds(8)).ok)
        status.batch(started: false)
        #expect(status.health(now: .now + .seconds(8)).ok)
        status.hook(started: true)
        let stuck = status.health(now: .now + .seconds(8))
        #expect(!stuck.ok && stuck.detail.contains("rebalance"), "\(stuck)")
        status.hook(started: false)
        status.fail("kafka: the broker went away")
        status.move(to: .running)
        let failed = status.health()
        #expect(!failed.ok && failed.detail == "failed: kafka: the broker went away" && !status.isReady)
    }
}
