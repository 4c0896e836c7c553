import KafkaIO
import KafkaIOTesting
import Testing

@Suite struct AdminTests {
    @Test func createsTopicsAndAlreadyExistsIsNotAnError() async throws {
        try await withBroker { broker in
            let admin = try KafkaAdmin(settings: ClientSettings(bootstrapServers: [broker.bootstrap]), logger: testLogger)
            let state = uniqueName("changelog")
            let events = uniqueName("events")
            let first = try await admin.createTopics([
                NewTopic(name: state, partitions: 3, configs: ["cleanup.policy": "compact"]),
                NewTopic(name: events, partitions: 4),
            ])
            #expect(first == [.created(state), .created(events)])
            let second = try await admin.createTopics([NewTopic(name: state, partitions: 3)])
            #expect(second == [.alreadyExisted(state)])
            let described = try await admin.describeTopics([state, events])
            #expect(described.map(\.name) == [state, events])
            #expect(described.map(\.partitions.count) == [3, 4])
            #expect(described[0].partitions.allSatisfy { $0.leader >= 0 })
            if let policy = described[0].configs["cleanup.policy"] {
                #expect(policy == "compact")
            }
        }
    }

    @Test func describingAnUnknownTopicThrows() async throws {
        try await withBroker { broker in
            let admin = try KafkaAdmin(settings: ClientSettings(bootstrapServers: [broker.bootstrap]), logger: testLogger)
            await #expect(throws: KafkaError.self) {
                _ = try await admin.describeTopics([uniqueName("missing")], timeout: .seconds(5))
            }
        }
    }

    @Test func committedOffsetsAreWhatTheGroupCommittedAndNoneForUntouchedPartitions() async throws {
        try await withBroker { broker in
            let topic = uniqueName("committed")
            try await broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(settings: testProducerSettings([broker.bootstrap]), logger: testLogger)
            for i in 0..<5 {
                try await producer.send(ProducerRecord(topic: topic, key: nil, value: Array("r\(i)".utf8), partition: 0))
            }
            await producer.close()
            let group = uniqueName("group")
            let consumer = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group),
                                             topics: [topic], logger: testLogger)
            let records = try await collect(consumer, count: 5)
            #expect(records.count == 5)
            // Done up to offset 3 (the next to read): what the group commits.
            consumer.markDone(upTo: [TopicPartition(topic, 0): 3])
            try await consumer.commit()
            await consumer.close()
            let admin = try KafkaAdmin(settings: ClientSettings(bootstrapServers: [broker.bootstrap]), logger: testLogger)
            let offsets = try await admin.committedOffsets(group: group,
                                                           partitions: [TopicPartition(topic, 0), TopicPartition(topic, 1)])
            #expect(offsets[TopicPartition(topic, 0)] == 3)
            #expect((offsets[TopicPartition(topic, 1)] ?? -1001) < 0, "\(offsets)")
        }
    }
}
