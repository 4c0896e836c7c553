import KafkaIO
import KafkaIOTesting
import Testing

@Suite struct PartitionReaderTests {
    /// Reads one partition from 0 (or a later offset) to a marker record's offset, without a
    /// group: the way Vigil finds a partition's true end on Tansu.
    @Test(.timeLimit(.minutes(2)))
    func readsOnePartitionToAMarkerWithoutAGroup() async throws {
        try await withBroker { broker in
            let topic = uniqueName("reader")
            try await broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(settings: testProducerSettings([broker.bootstrap]), logger: testLogger)
            for i in 0..<30 {
                var record = ProducerRecord(topic: topic, key: "k\(i % 7)", value: i % 10 == 9 ? nil : "v\(i)")
                record.partition = Int32(i % 2)
                _ = try await producer.send(record)
            }
            var marker = ProducerRecord(topic: topic, key: "marker", value: "m")
            marker.partition = 1
            let end = try await producer.send(marker).offset
            await producer.close()
            #expect(end == 15)

            let client = ClientSettings(bootstrapServers: [broker.bootstrap], clientID: "vigil-test")
            let reader = try KafkaPartitionReader(settings: client, topic: topic, partition: 1, logger: testLogger)
            let all = try await reader.read(to: end, timeout: .seconds(30), into: [ConsumerRecord]()) { $0.append($1) }
            #expect(all.map(\.offset) == Array(0..<15))
            #expect(all.allSatisfy { $0.partition == 1 && $0.topic == topic })
            #expect(all.map { $0.value.map { String(decoding: $0, as: UTF8.self) } }
                == (0..<15).map { n in let i = 2 * n + 1; return i % 10 == 9 ? nil : "v\(i)" })
            // A later start, and a fold that keeps the latest value per key (compaction's view).
            let latest = try await reader.read(from: 10, to: end, timeout: .seconds(30), into: [String: Int64]()) {
                $0[String(decoding: $1.key ?? [], as: UTF8.self)] = $1.offset
            }
            #expect(latest.values.sorted() == Array(10..<15))
            let none = try await reader.read(from: 5, to: 5, timeout: .seconds(1), into: 0) { n, _ in n += 1 }
            #expect(none == 0)
            // An end past the partition's end is not reached: a timeout, not a hang.
            await #expect(throws: KafkaError.self) {
                _ = try await reader.read(to: end + 5, timeout: .seconds(3), into: 0) { n, _ in n += 1 }
            }
        }
    }
}
