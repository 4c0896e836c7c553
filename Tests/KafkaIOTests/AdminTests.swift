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
}
