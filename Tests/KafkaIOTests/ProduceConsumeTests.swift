import Foundation
import KafkaIO
import KafkaIOTesting
import Synchronization
import Testing

@Suite struct ProduceConsumeTests {
    @Test func keyedRecordsLandWhereJavaPutsThemAndRoundTrip() async throws {
        try await withBroker { broker in
            let topic = uniqueName("roundtrip")
            try await broker.createTopic(topic, partitions: 4)
            let producer = try KafkaProducer(settings: testProducerSettings([broker.bootstrap]), logger: testLogger)
            var sent: [String: DeliveryReport] = [:]
            for i in 0..<200 {
                let key = "10.0.\(i / 50).\(i % 50)"
                let value: [UInt8]? = i % 20 == 7 ? nil : Array("event-\(i)".utf8)
                let record = ProducerRecord(topic: topic, key: Array(key.utf8), value: value,
                                            headers: [KafkaHeader(key: "n", string: "\(i)"),
                                                      KafkaHeader(key: "empty", value: nil)],
                                            timestampMilliseconds: 1_700_000_000_000 + Int64(i))
                let report = try await producer.send(record)
                #expect(report.partition == javaPartition(Array(key.utf8), partitions: 4), "key \(key)")
                #expect(report.partition == KafkaPartitioner.murmur2(key, partitions: 4), "key \(key)")
                sent[key] = report
            }
            #expect(Set(sent.values.map(\.partition)) == [0, 1, 2, 3])
            await producer.close()

            let consumer = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: uniqueName("g")),
                                             topics: [topic], logger: testLogger)
            let records = try await collect(consumer, count: 200)
            await consumer.close()
            #expect(records.count == 200)
            for record in records {
                let key = String(decoding: record.key ?? [], as: UTF8.self)
                let i = Int(String(decoding: record.header("n") ?? [], as: UTF8.self)) ?? -1
                #expect(record.partition == javaPartition(record.key ?? [], partitions: 4))
                #expect(sent[key]?.offset == record.offset)
                #expect(record.timestamp == KafkaTimestamp(kind: .createTime, milliseconds: 1_700_000_000_000 + Int64(i)))
                #expect(record.headers.contains(KafkaHeader(key: "empty", value: nil)))
                if i % 20 == 7 {
                    #expect(record.isTombstone, "record \(i) was produced as a tombstone")
                } else {
                    #expect(record.value == Array("event-\(i)".utf8))
                    // Room for an in-place parser past the bytes (ConsumerRecord.valueSpareCapacity).
                    #expect((record.value?.capacity ?? 0) - (record.value?.count ?? 0) >= ConsumerRecord.valueSpareCapacity)
                }
            }
            // Per-partition order is kept.
            for partition in Int32(0)..<4 {
                let offsets = records.filter { $0.partition == partition }.map(\.offset)
                #expect(offsets == offsets.sorted())
            }
        }
    }

    @Test func secondConsumerResumesExactlyAfterCommittedOffsets() async throws {
        try await withBroker { broker in
            let topic = uniqueName("resume")
            let group = uniqueName("g")
            try await broker.createTopic(topic, partitions: 4)
            let producer = try KafkaProducer(settings: testProducerSettings([broker.bootstrap]), logger: testLogger)
            for i in 0..<120 {
                try await producer.send(ProducerRecord(topic: topic, key: "k\(i)", value: "v\(i)"))
            }
            await producer.close()

            let first = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group),
                                          topics: [topic], logger: testLogger)
            let all = try await collect(first, count: 120)
            #expect(all.count == 120)
            // Mark done only the first half of each partition (as a pipeline would after acks).
            var expectedRest = Set<String>()
            for partition in Int32(0)..<4 {
                let mine = all.filter { $0.partition == partition }.sorted { $0.offset < $1.offset }
                let done = mine.prefix(mine.count / 2)
                done.forEach(first.markDone)
                mine.dropFirst(mine.count / 2).forEach { expectedRest.insert("\($0.partition)/\($0.offset)") }
            }
            try await first.commit()
            await first.close()

            let second = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group),
                                           topics: [topic], logger: testLogger)
            let rest = try await collect(second, count: expectedRest.count)
            // Nothing more arrives: what was committed is not read again.
            let extra = try await collect(second, count: 1, timeout: .seconds(2))
            await second.close()
            #expect(Set(rest.map { "\($0.partition)/\($0.offset)" }) == expectedRest)
            #expect(rest.count == expectedRest.count)
            #expect(extra.isEmpty, "re-read beyond the uncommitted records: \(extra.map(\.offset))")
        }
    }

    @Test func closeCommitsMarkedOffsetsWithoutAnExplicitCommit() async throws {
        try await withBroker { broker in
            let topic = uniqueName("closecommit")
            let group = uniqueName("g")
            try await broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(settings: testProducerSettings([broker.bootstrap]), logger: testLogger)
            for i in 0..<40 { try await producer.send(ProducerRecord(topic: topic, key: "k\(i)", value: "v\(i)")) }
            let first = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group),
                                          topics: [topic], logger: testLogger)
            for record in try await collect(first, count: 40) { first.markDone(record) }
            await first.close()
            for i in 40..<45 { try await producer.send(ProducerRecord(topic: topic, key: "k\(i)", value: "v\(i)")) }
            await producer.close()
            let second = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: group),
                                           topics: [topic], logger: testLogger)
            let rest = try await collect(second, count: 5)
            let extra = try await collect(second, count: 1, timeout: .seconds(2))
            await second.close()
            #expect(Set(rest.compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } })
                    == Set((40..<45).map { "v\($0)" }))
            #expect(extra.isEmpty)
        }
    }
}
