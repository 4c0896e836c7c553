import AuditEvents
import Enrichment
import KafkaIO
import KafkaIOTesting
import Runtime
import Testing

@Suite struct RepartitionCodecTests {
    static let enrichment = EventEnrichment(
        geo: GeoLocation(city: "Zürich", country: "Switzerland", countryCode: "CH", region: "Zurich",
                         regionCode: "ZH", continent: "Europe", continentCode: "EU", postalCode: "8001",
                         timeZone: "Europe/Zurich", latitude: 47.3769, longitude: 8.5417, accuracyRadius: 20),
        torExitIPs: ["176.95.188.101", "2001:db8::1"], geoDatabaseType: "GeoLite2-City",
        geoBuildEpoch: 1_530_636_000, torListTime: 1_710_201_600)

    /// Every fixture record's events, as ingest decodes them (format per file, cluster label for EKS).
    static func events() throws -> [(AuditEvent, String)] {
        let files: [(String, SourceFormat, String?)] = [
            ("eks-event.jsonl", .eks, "prod-eks"), ("eks-cloudwatch.jsonl", .eks, nil),
            ("aks-records.jsonl", .aks, nil), ("aks-dynatrace.jsonl", .aks, nil),
            ("aks-eventhubs-batch.jsonl", .aks, nil), ("gke-entries.jsonl", .gke, nil),
            ("process-events.jsonl", .process, nil),
        ]
        var out: [(AuditEvent, String)] = []
        for (file, format, cluster) in files {
            let decoder = try AuditRecordDecoder(format: format, options: DecoderOptions(clusterLabel: cluster))
            for line in try fixtureLines(file) {
                out += decoder.decode(line).compactMap(\.event).map { ($0, file) }
            }
        }
        return out
    }

    /// The consumer-side view of a produced record.
    static func consumed(_ record: ProducerRecord, offset: Int64 = 7) -> ConsumerRecord {
        ConsumerRecord(topic: record.topic, partition: 3, offset: offset, key: record.key, value: record.value,
                       headers: record.headers)
    }

    @Test func everyFixtureEventRoundTripsWithItsEnrichmentAndOrigin() throws {
        let events = try Self.events()
        #expect(events.count >= 15)
        let decoder = try RepartitionDecoder()
        for (index, (event, file)) in events.enumerated() {
            let origin = RawOrigin(topic: "raw-\(file)", partition: 2, offset: Int64(100 + index), index: index % 2 == 0 ? nil : 1)
            let record = RepartitionCodec.encode(event, enrichment: Self.enrichment, origin: origin, topic: "vigil.events.by-key")
            #expect(record.topic == "vigil.events.by-key")
            let back = try #require(decoder.decode(Self.consumed(record)).event)
            #expect(back.event == event, "\(file): \(back.event.jsonLine())\n!= \(event.jsonLine())")
            #expect(back.enrichment == Self.enrichment, "\(file)")
            #expect(back.origin == origin)
            #expect(record.timestampMilliseconds == event.time?.milliseconds)
        }
    }

    @Test func keyIsTheSourceIPOrTheContainerOfAProcessEvent() throws {
        for (event, file) in try Self.events() {
            let record = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: "t", partition: 0, offset: 0),
                                                 topic: "r")
            let key = record.key.map { String(decoding: $0, as: UTF8.self) }
            if event.logType == .ecsProcess {
                #expect(key == event.process?.containerID, "\(file)")
                #expect(key != nil)
            } else {
                #expect(key == event.sourceIP, "\(file)")
            }
        }
    }

    @Test func aksRecordsCarryTheirEnvelopeSoTheClusterComesBack() throws {
        let aks = try Self.events().filter { $0.0.logType == .azureMonitorActivity }
        #expect(!aks.isEmpty)
        let decoder = try RepartitionDecoder()
        for (event, _) in aks {
            let record = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: "t", partition: 0, offset: 0),
                                                 topic: "r")
            #expect(record.value == event.envelope?.bytes)
            // Even without the cluster header, the AKS cluster is read back from resourceId.
            var bare = Self.consumed(record)
            bare.headers.removeAll { $0.key == "vigil-cluster" }
            let back = try #require(decoder.decode(bare).event)
            if event.envelope?.text.contains("resourceId") == true { #expect(back.event.cluster == event.cluster) }
        }
    }

    @Test func cloudWatchEntryTimeAndLogGroupClusterSurvive() throws {
        let line = try #require(try fixtureLines("eks-cloudwatch.jsonl").first)
        let events = try AuditRecordDecoder(format: .eks).decode(line).compactMap(\.event)
        #expect(events.count == 3)
        let decoder = try RepartitionDecoder()
        for event in events {
            let record = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: "t", partition: 0, offset: 0),
                                                 topic: "r")
            let back = try #require(decoder.decode(Self.consumed(record)).event)
            #expect(back.event.cluster == event.cluster && event.cluster != nil)
            #expect(back.event.time == event.time)
            #expect(back.event == event)
        }
    }

    @Test func aRecordWithoutHeadersOrValueIsAnIssueNotACrash() throws {
        let decoder = try RepartitionDecoder()
        let noHeaders = ConsumerRecord(topic: "r", partition: 0, offset: 0, key: nil, value: Array("{}".utf8))
        let issue = try #require(decoder.decode(noHeaders).issue)
        #expect(issue.reason == .missingField)
        let tombstone = ConsumerRecord(topic: "r", partition: 0, offset: 0, key: nil, value: nil,
                                       headers: [KafkaHeader(key: "vigil-log-type", string: "Amazon.EKS.Audit")])
        #expect(decoder.decode(tombstone).issue != nil)
        let garbage = ConsumerRecord(topic: "r", partition: 0, offset: 0, key: nil, value: Array("{not json".utf8),
                                     headers: [KafkaHeader(key: "vigil-log-type", string: "GCP.AuditLog")])
        let bad = try #require(decoder.decode(garbage).issue)
        #expect(bad.reason == .malformedJSON)
    }

    @Test func deadLetterKeepsTheOriginalBytesHeadersAndSaysWhy() {
        let raw = ConsumerRecord(topic: "eks-audit", partition: 1, offset: 42, key: Array("k".utf8), value: Array("{oops".utf8),
                                 headers: [KafkaHeader(key: "shipper", string: "fluent-bit")])
        let issue = DecodeIssue(.malformedJSON, "record is not valid JSON")
        let dlq = DeadLetterRecord.make(for: raw, issue: issue, topic: "vigil.dead-letter")
        #expect(dlq.topic == "vigil.dead-letter" && dlq.value == raw.value && dlq.key == raw.key)
        func header(_ k: String) -> String? {
            dlq.headers.first { $0.key == k }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(header("shipper") == "fluent-bit")
        #expect(header("vigil-dlq-reason") == "malformed_json")
        #expect(header("vigil-source-topic") == "eks-audit")
        #expect(header("vigil-source-partition") == "1")
        #expect(header("vigil-source-offset") == "42")
    }
}
