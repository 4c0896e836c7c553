import KafkaIOTesting
import Testing

/// ops/broker.sh, which every broker test stands on.
@Suite struct TestBrokerTests {
    /// A broker that cannot bind its port must not be reported as started because another
    /// broker answers there: two tests whose starts picked the same free port both got the
    /// first one's address, and when one test stopped "its" broker the other lost it mid-test
    /// (IdempotentStateTests, session 16). Without the check the second start succeeded.
    @Test(.timeLimit(.minutes(2)))
    func aBrokerStartedOnATakenPortFailsInsteadOfBorrowingTheOtherBroker() async throws {
        try await withBroker { first in
            await #expect(throws: ScriptError.self) {
                let second = try await TestBroker.start(port: first.port)
                await second.stop()
            }
            return ()
        }
    }

    /// Brokers started at the same time each get a port of their own.
    @Test(.timeLimit(.minutes(2)))
    func brokersStartedTogetherGetPortsOfTheirOwn() async throws {
        let brokers = try await withThrowingTaskGroup(of: TestBroker.self) { group in
            for _ in 0..<4 { group.addTask { try await TestBroker.start() } }
            return try await group.reduce(into: [TestBroker]()) { $0.append($1) }
        }
        for broker in brokers { await broker.stop() }
        #expect(Set(brokers.map(\.port)).count == brokers.count, "\(brokers.map(\.bootstrap))")
    }
}
