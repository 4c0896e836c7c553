import AuditEvents
import Detection
import Foundation
import KafkaIO
import KafkaIOTesting
import Runtime
import Testing

/// At-least-once without double counting, against the real broker: records read again after a
/// crash (a state ahead of the committed offsets, a raw record ingest produced twice) are not
/// counted again by threshold state.
@Suite struct IdempotentStateTests {
    /// Nine denials from one IP (one short of both 403 thresholds) through ingest and detect;
    /// then a crash as it can end: both groups' committed offsets moved back to the start, so
    /// detect reads the nine repartition records again (its restored state already holds them)
    /// and ingest produces the nine raw records again (the same raw events at new repartition
    /// offsets). None of the eighteen may push the key to ten: no alert. The tenth denial then
    /// fires exactly the alerts of an uninterrupted run, with the same ids.
    @Test(.timeLimit(.minutes(5)))
    func recordsReadAgainAfterACrashAreNotCountedAgain() async throws {
        try await withBroker { broker in
            let (raw, topology, rules) = try await DetectStateTests.tenDenials(broker, "i")
            let lines = raw.lines

            let expected = try await ReferenceRun.alerts(raw, topology, rules: rules)
            #expect(expected.count == 2)

            let producer = try testProducer(broker)
            for line in lines[0..<9] {
                try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(line.utf8), partition: 0))
            }
            // First life: the nine are counted and their state reaches the changelog.
            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let detect = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runIngest = Task { try await ingest.run() }
            let runDetect = Task { try await detect.run() }
            let nine = await eventually(timeout: .seconds(60)) {
                detect.statistics.records == 9 && detect.statistics.changelogRecords > 0
            }
            runIngest.cancel()
            runDetect.cancel()
            try await runIngest.value
            try await runDetect.value
            #expect(nine, "\(detect.statistics)")
            #expect(detect.statistics.alerts == 0)

            // The crash: committed offsets behind what the state and the repartition topic hold.
            let client = ClientSettings(bootstrapServers: [broker.bootstrap])
            _ = try await KafkaGroupOffsets(settings: client, group: topology.kafka.detectGroup, logger: testLogger)
                .reset(topics: [topology.topics.repartition.name], to: .earliest)
            _ = try await KafkaGroupOffsets(settings: client, group: topology.kafka.ingestGroup, logger: testLogger)
                .reset(topics: [raw.topic], to: .earliest)

            // Second life: eighteen records, all already held.
            let ingest2 = try IngestStage(topology: topology, logger: testLogger)
            let detect2 = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runIngest2 = Task { try await ingest2.run() }
            let runDetect2 = Task { try await detect2.run() }
            let replayed = await eventually(timeout: .seconds(60)) { detect2.statistics.records == 18 }
            #expect(replayed, "\(detect2.statistics)")
            #expect(ingest2.statistics.events == 9, "ingest produced the nine again: \(ingest2.statistics)")
            #expect(detect2.statistics.duplicates == 18, "\(detect2.statistics)")
            #expect(detect2.statistics.alerts == 0, "a replayed record pushed a key to its threshold: \(detect2.statistics)")

            // The tenth fires both thresholds, once.
            try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(lines[9].utf8), partition: 0))
            await producer.close()
            let fired = await eventually(timeout: .seconds(60)) { detect2.statistics.alertsAcknowledged >= 2 }
            runIngest2.cancel()
            runDetect2.cancel()
            try await runIngest2.value
            try await runDetect2.value
            #expect(fired, "\(detect2.statistics)")
            #expect(detect2.statistics.records == 19 && detect2.statistics.duplicates == 18, "\(detect2.statistics)")
            #expect(try await DetectStateTests.alertIDs(broker, topology).sorted() == expected.map(\.id).sorted())
        }
    }
}
