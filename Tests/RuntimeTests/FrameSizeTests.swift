import AuditEvents
import Enrichment
import Foundation
import KafkaIO
import KafkaIOTesting
import Logging
@testable import Runtime
import Testing

/// Ingest's frames stay under `RepartitionFrame.maxBytes` whatever the events' sizes: an event
/// that would take an open frame past it starts a new one (a frame over librdkafka's
/// `message.max.bytes` would be refused, and the same batch built again after every restart).
@Suite struct FrameSizeTests {
    @Test func framesStayUnderTheLimitAndAnEventLargerThanItTravelsAlone() throws {
        let dir = try temporaryDirectory()
        // A rule reading raw JSON paths of EKS events: their documents travel, so events are large.
        let rules = dir + "/rules"
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        try write(DetectStageTests.rawPathRule, to: rules + "/raw.yaml")
        let name = uniqueName("s")
        try write(testTopology("127.0.0.1:9", name: name, sources: ["{topic: \(name)-eks, format: eks}"])
                    .replacingOccurrences(of: "rules: " + repositoryPath("topology/rules"), with: "rules: " + rules)
                    .replacingOccurrences(of: "limits: {", with: "limits: {max_record_bytes: 4194304, "),
                  to: dir + "/t.yaml")
        let (topology, _) = try TopologyLoader.load(file: dir + "/t.yaml")
        #expect(topology.topics.repartition.frameEvents == 64)
        let documents = DocumentPolicy(directory: rules, logger: testLogger)
        let worker = try IngestWorker(topology: topology, enricher: Enricher(geo: nil, tor: nil), documents: documents,
                                      shared: IngestShared(), partitions: 4)
        // One source IP (one partition): 40 events of ~60 KB (a padded user agent), one of
        // ~400 KB in the middle, then 10 small ones.
        func event(_ i: Int, padding: Int) throws -> [UInt8] {
            let line = try eksDenial(second: i, auditID: "big-\(i)")
            let padded = line.replacingOccurrences(of: #""userAgent":""#,
                                                   with: #""userAgent":""# + String(repeating: "x", count: padding))
            return Array(padded.utf8)
        }
        var values: [[UInt8]] = []
        for i in 0..<40 { values.append(try event(i, padding: 60_000)) }
        values.insert(try event(99, padding: 400_000), at: 20)
        for i in 40..<50 { values.append(try event(i, padding: 0)) }
        let records = values.enumerated().map { ConsumerRecord(topic: "\(name)-eks", partition: 0, offset: Int64($0.offset),
                                                               key: nil, value: $0.element) }
        let encoded = worker.encode(records[...])
        let frames = encoded.outputs.filter { !$0.deadLetter }
        #expect(encoded.outputs.allSatisfy { !$0.deadLetter }, "\(encoded.outputs.filter(\.deadLetter).count) dead letters")
        #expect(frames.reduce(0) { $0 + $1.events } == values.count)
        for frame in frames {
            let size = frame.record.value?.count ?? 0
            #expect(size <= RepartitionFrame.maxBytes || frame.events == 1, "a frame of \(frame.events) events, \(size) bytes")
        }
        #expect(frames.contains { $0.events == 1 && ($0.record.value?.count ?? 0) > 400_000 }, "the large event alone")
        #expect(frames.contains { $0.events > 4 }, "small events still share frames")
        // The events in raw order across the frames, every input covered.
        let decoder = try RepartitionDecoder()
        let offsets = frames.flatMap { frame in
            decoder.decodeAll(ConsumerRecord(topic: "r", partition: 0, offset: 0, key: nil, value: frame.record.value))
                .compactMap { $0.event?.origin.offset }
        }
        #expect(offsets == (0..<Int64(values.count)).map { $0 })
        #expect(encoded.inputs.map(\.outputs).allSatisfy { $0 == 1 })
        #expect(Set(frames.flatMap(\.inputs)) == Set(0..<values.count))
    }
}
