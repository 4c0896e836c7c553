import Foundation
import KafkaIO
import KafkaIOTesting
import Synchronization
import Testing

/// The consumer commits stored offsets itself every commit interval and reports each commit's
/// outcome (`RebalanceHooks.onCommit`, behind `vigil_commits_total`).
@Suite struct CommitOutcomeTests {
    final class Outcomes: Sendable {
        private let counts = Mutex((ok: 0, failed: 0))
        var ok: Int { counts.withLock { $0.ok } }
        var failed: Int { counts.withLock { $0.failed } }
        var hooks: RebalanceHooks {
            RebalanceHooks(onCommit: { committed in self.counts.withLock { committed ? ($0.ok += 1) : ($0.failed += 1) } })
        }
    }

    /// On librdkafka's mock cluster: a periodic commit the coordinator refuses is reported as
    /// failed and tried again at the next interval (then reported ok); a refused explicit commit
    /// is reported failed too.
    @Test(.timeLimit(.minutes(2)))
    func aRefusedCommitIsReportedFailedAndTriedAgain() async throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 1)
        let producer = try KafkaProducer(settings: testProducerSettings(cluster.bootstrapServers), logger: testLogger)
        try await producer.send(ProducerRecord(topic: "t", key: "k", value: "v"))
        try await producer.send(ProducerRecord(topic: "t", key: "k", value: "w"))
        await producer.close()
        let outcomes = Outcomes()
        var settings = mockConsumerSettings(cluster)
        settings.autoCommitInterval = .milliseconds(300)
        let consumer = try KafkaConsumer(settings: settings, topics: ["t"], hooks: outcomes.hooks, logger: testLogger)
        let records = try await collect(consumer, count: 2)
        cluster.pushRequestErrors(.offsetCommit, [.groupAuthorizationFailed])
        consumer.markDone(records[0])
        let retried = await eventually(timeout: .seconds(20)) { outcomes.failed == 1 && outcomes.ok >= 1 }
        #expect(retried, "failed \(outcomes.failed), ok \(outcomes.ok)")

        cluster.pushRequestErrors(.offsetCommit, [.groupAuthorizationFailed])
        consumer.markDone(records[1])
        await #expect(throws: KafkaError.self) { try await consumer.commit() }
        #expect(outcomes.failed == 2)
        await consumer.close()
    }

    @Test(.timeLimit(.minutes(2)))
    func periodicCommitsCommitWhatWasMarkedDoneAndReportTheirOutcome() async throws {
        try await withBroker { broker in
            let topic = uniqueName("commits")
            let group = uniqueName("g")
            try await broker.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(settings: testProducerSettings([broker.bootstrap]), logger: testLogger)
            for i in 0..<5 {
                try await producer.send(ProducerRecord(topic: topic, key: nil, value: Array("v\(i)".utf8), partition: 0))
            }
            await producer.close()
            let outcomes = Outcomes()
            let consumer = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group,
                                                                             autoCommit: .milliseconds(300)),
                                             topics: [topic], hooks: outcomes.hooks, logger: testLogger)
            let records = try await collect(consumer, count: 5)
            #expect(records.count == 5)
            #expect(outcomes.ok == 0, "nothing marked done, nothing committed")
            records.prefix(3).forEach(consumer.markDone)

            // Committed by the consumer's own periodic commit, while it runs.
            let admin = try KafkaAdmin(settings: ClientSettings(bootstrapServers: [broker.bootstrap]), logger: testLogger)
            let tp = TopicPartition(topic, 0)
            var committed: [TopicPartition: Int64] = [:]
            let three = await eventually(timeout: .seconds(20)) {
                committed = (try? await admin.committedOffsets(group: group, partitions: [tp])) ?? [:]
                return committed[tp] == 3 && outcomes.ok >= 1
            }
            #expect(three, "committed \(committed), outcomes ok \(outcomes.ok)")
            // Nothing new stored: no further commits.
            let settled = outcomes.ok
            try await Task.sleep(for: .seconds(1))
            #expect(outcomes.ok == settled)
            // The rest, then close: committed and counted.
            records.suffix(2).forEach(consumer.markDone)
            await consumer.close()
            #expect(outcomes.ok == settled + 1 && outcomes.failed == 0)
            #expect(try await admin.committedOffsets(group: group, partitions: [tp])[tp] == 5)
        }
    }
}
