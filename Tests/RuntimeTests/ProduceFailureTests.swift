import Foundation
import KafkaIO
import KafkaIOTesting
import Observability
import Runtime
import Testing

/// Records the broker does not take within the delivery timeout, on librdkafka's mock cluster
/// (Tansu takes any record: no size or authorization limit makes it refuse one on cue): the
/// failure is counted in `vigil_produce_failures_total{topic}`, the ingest attempt ends and
/// writes its gap notices, and the next attempt produces the events.
@Suite struct ProduceFailureTests {
    @Test(.timeLimit(.minutes(3)))
    func repartitionRecordsThatTimeOutAreCountedAndTheAttemptWritesGapNoticesBeforeTheNextOne() async throws {
        let registry = PrometheusBootstrap.bootstrap()
        let cluster = try MockKafkaCluster(brokers: 1)
        let name = uniqueName("pf")
        let raw = IngestStageTests.Raw(topic: "\(name)-eks", format: .eks, lines: try eksDenials(0..<3, id: name))
        let dir = try temporaryDirectory()
        try write(testTopology(cluster.bootstrapServers.joined(separator: ","), name: name,
                               sources: ["{topic: \(raw.topic), format: eks, cluster: prod-eks}"], deliveryTimeout: "3s")
            .replacingOccurrences(of: "changelog: {name: \(name).changelog, partitions: 4}",
                                  with: "changelog: {name: \(name).changelog, partitions: 4}\n  create: false"),
                  to: dir + "/t.yaml")
        let (topology, _) = try TopologyLoader.load(file: dir + "/t.yaml")
        #expect(!topology.topics.create)
        try cluster.createTopic(raw.topic, partitions: 1)
        for topic in [topology.topics.repartition, topology.topics.alerts, topology.topics.deadLetter, topology.topics.changelog] {
            try cluster.createTopic(topic.name, partitions: Int32(topic.partitions))
        }
        let producer = try KafkaProducer(settings: testProducerSettings(cluster.bootstrapServers), logger: testLogger)
        for line in raw.lines {
            try await producer.send(ProducerRecord(topic: raw.topic, key: nil, value: Array(line.utf8), partition: 0))
        }
        await producer.close()

        // The repartition partitions have no leader: the events time out (3 s); once the
        // failure shows, the leaders come back (the notices and the next attempt go through).
        let partitions = Int32(topology.topics.repartition.partitions)
        for p in 0..<partitions { cluster.setLeader(topology.topics.repartition.name, partition: p, -1) }
        let ingest = try IngestStage(topology: topology, logger: testLogger)
        let run = Task { try await ingest.run() }
        let failed = await eventually(timeout: .seconds(60)) { ingest.statistics.deliveryFailures >= 1 }
        for p in 0..<partitions { cluster.setLeader(topology.topics.repartition.name, partition: p, 1) }
        #expect(failed, "\(ingest.statistics)")
        let produced = await eventually(timeout: .seconds(60)) { ingest.statistics.eventsAcknowledged >= 3 }
        run.cancel()
        try await run.value
        #expect(produced, "\(ingest.statistics)")
        let failures = registry.emitToString().split(separator: "\n")
            .first { $0.hasPrefix("vigil_produce_failures_total{topic=\"\(topology.topics.repartition.name)\"}") }
        #expect(failures.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 1 } == true,
                "\(failures.map(String.init) ?? "no series")")

        // The repartition topic: a notice per partition (raw offset 0: nothing was done), then
        // the events of the next attempt, after the notice on their partition.
        // (The timed-out events are not there.) Read until the 4 notices and 3 events are in.
        let records = try await readTopic(topology.topics.repartition.name, cluster.bootstrapServers,
                                          count: Int(partitions) + raw.lines.count, timeout: .seconds(60),
                                          properties: mockClusterReader)
        let notices = records.filter { $0.headers.first?.key == "vigil-repartition-gap" }
        #expect(Set(notices.map(\.partition)) == [0, 1, 2, 3], "\(records.map { "\($0.partition)/\($0.offset) \($0.headers.first?.key ?? "")" })")
        #expect(notices.allSatisfy { String(decoding: $0.header("vigil-source-offset") ?? [], as: UTF8.self) == "0" })
        for event in records where event.headers.first?.key != "vigil-repartition-gap" {
            let notice = try #require(notices.first { $0.partition == event.partition })
            #expect(notice.offset < event.offset, "\(event.partition)/\(event.offset) before its notice")
        }
    }
}
