import KafkaIO
import KafkaIOTesting
import Testing

@Suite struct GroupOffsetsTests {
    /// The runbook's replay step: a stopped group's offsets moved to a time, to the start and
    /// to the end, read back, and used by the group's next member.
    @Test(.timeLimit(.minutes(2)))
    func aStoppedGroupsOffsetsMoveToATimeTheStartAndTheEnd() async throws {
        try await withBroker { broker in
            let topic = uniqueName("offsets")
            let group = uniqueName("g")
            try await broker.createTopic(topic, partitions: 2)
            // Per partition: offsets 0..<4 at t0, 4..<10 one minute later.
            let t0: Int64 = 1_790_000_000_000
            let producer = try KafkaProducer(settings: testProducerSettings([broker.bootstrap]), logger: testLogger)
            for partition in Int32(0)..<2 {
                for i in 0..<10 {
                    _ = try await producer.send(ProducerRecord(topic: topic, key: nil, value: Array("p\(partition)-\(i)".utf8),
                                                               partition: partition, timestampMilliseconds: i < 4 ? t0 : t0 + 60_000))
                }
            }
            await producer.close()
            let partitions = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
            let client = ClientSettings(bootstrapServers: [broker.bootstrap], clientID: "vigil-test")
            let offsets = try KafkaGroupOffsets(settings: client, group: group, logger: testLogger)

            let none = try await offsets.committed(topics: [topic])
            #expect(none == [partitions[0]: nil, partitions[1]: nil])

            let planned = try await offsets.reset(topics: [topic], to: .time(milliseconds: t0 + 30_000), dryRun: true)
            #expect(planned.map(\.after) == [4, 4] && planned.allSatisfy { $0.before == nil }, "\(planned)")
            #expect(try await offsets.committed(topics: [topic]) == none, "a dry run commits nothing")

            let toTime = try await offsets.reset(topics: [topic], to: .time(milliseconds: t0 + 30_000))
            #expect(toTime.map(\.partition) == partitions && toTime.map(\.after) == [4, 4], "\(toTime)")
            #expect(try await offsets.committed(topics: [topic]) == [partitions[0]: 4, partitions[1]: 4])

            let toEnd = try await offsets.reset(topics: [topic], to: .latest)
            #expect(toEnd.map(\.before) == [4, 4] && toEnd.map(\.after) == [10, 10], "\(toEnd)")
            let toStart = try await offsets.reset(topics: [topic], to: .earliest)
            #expect(toStart.map(\.before) == [10, 10] && toStart.map(\.after) == [0, 0], "\(toStart)")
            let past = try await offsets.reset(topics: [topic], to: .time(milliseconds: t0 + 3_600_000))
            #expect(past.map(\.after) == [10, 10], "no record that recent: the end, \(past)")

            // The group's next member starts where the reset put it.
            _ = try await offsets.reset(topics: [topic], to: .time(milliseconds: t0 + 30_000))
            let consumer = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group),
                                             topics: [topic], logger: testLogger)
            let records = try await collect(consumer, count: 12)
            await consumer.close()
            #expect(records.count == 12)
            #expect(Set(records.map(\.offset)) == Set(4..<10), "\(records.map(\.offset))")

            await #expect(throws: KafkaError.self) {
                _ = try await offsets.committed(topics: [uniqueName("missing")])
            }
        }
    }

    @Test func anEmptyGroupIdIsRefusedBeforeConnecting() {
        let client = ClientSettings(bootstrapServers: ["127.0.0.1:1"], clientID: "vigil-test")
        #expect(throws: KafkaError.self) { _ = try KafkaGroupOffsets(settings: client, group: "", logger: testLogger) }
    }
}
