import AuditEvents
import Detection
import Enrichment
import KafkaIO
import KafkaIOTesting
import LoadGen
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

    static func origin(_ file: String, _ index: Int) -> RawOrigin {
        RawOrigin(topic: "raw-\(file)", partition: 2, offset: Int64(100 + index), index: index % 2 == 0 ? nil : index)
    }

    @Test func everyFixtureEventRoundTripsFieldForFieldWithItsEnrichmentAndOrigin() throws {
        let events = try Self.events()
        #expect(events.count >= 15)
        let decoder = try RepartitionDecoder()
        for enrichment in [Self.enrichment, .none, EventEnrichment(torExitIPs: ["1.2.3.4"], torListTime: -5)] {
            for (index, (event, file)) in events.enumerated() {
                let origin = Self.origin(file, index)
                for documents in [false, true] {
                    let record = RepartitionCodec.encode(event, enrichment: enrichment, origin: origin, arrival: 1_700_000_000_123,
                                                         documents: documents, topic: "vigil.events.by-key")
                    #expect(record.topic == "vigil.events.by-key")
                    #expect(record.headers.isEmpty)
                    let back = try #require(decoder.decode(Self.consumed(record)).event, "\(file)")
                    let expected = documents ? event : event.withoutDocuments
                    #expect(back.event == expected, "\(file): \(back.event.jsonLine())\n!= \(event.jsonLine())")
                    #expect(back.event.jsonLine() == event.jsonLine())
                    #expect(back.enrichment == enrichment, "\(file)")
                    #expect(back.origin == origin)
                    #expect(record.timestampMilliseconds == event.time?.milliseconds)
                }
            }
        }
    }

    /// A frame (version 3) carries the fixture events as their version-2 values, each with its
    /// key and arrival; each entry decodes to what the event alone decodes to.
    @Test func aFrameCarriesEachEventAsItsOwnRecordWouldWithKeyAndArrival() throws {
        let events = try Self.events()
        let decoder = try RepartitionDecoder()
        var frame = RepartitionFrame(partition: 5)
        for (index, (event, file)) in events.enumerated() {
            frame.append(event, enrichment: index % 2 == 0 ? Self.enrichment : .none, origin: Self.origin(file, index),
                         arrival: index % 3 == 0 ? nil : 1_700_000_000_000 + Int64(index), documents: index % 4 == 1)
        }
        #expect(frame.count == events.count)
        let record = frame.record(topic: "vigil.events.by-key")
        #expect(record.partition == 5 && record.key == nil && record.headers.isEmpty)
        #expect(record.timestampMilliseconds == events[0].0.time?.milliseconds)
        let consumed = Self.consumed(record)
        let value = try #require(record.value)
        let entries = try #require(RepartitionFrame.entries(value))
        #expect(entries.count == events.count)
        #expect(decoder.decode(consumed).issue?.detail.contains("version 3") == true, "a frame is not one event")
        for (index, ((event, file), entry)) in zip(events, entries).enumerated() {
            let alone = RepartitionCodec.encode(event, enrichment: index % 2 == 0 ? Self.enrichment : .none,
                                                origin: Self.origin(file, index),
                                                arrival: index % 3 == 0 ? nil : 1_700_000_000_000 + Int64(index),
                                                documents: index % 4 == 1, topic: "vigil.events.by-key")
            #expect(Array(value[entry.body]) == alone.value, "\(file) #\(index): the entry is the event's own value")
            #expect(entry.key.map { Array(value[$0]) } == alone.key)
            let back = try #require(decoder.decode(consumed, entry: entry).event, "\(file) #\(index)")
            #expect(back.event.jsonLine() == event.jsonLine() || index % 4 != 1 && back.event == event.withoutDocuments)
            #expect(back.origin == Self.origin(file, index))
            #expect(RepartitionCodec.arrival(of: consumed, entry: entry) == (index % 3 == 0 ? nil : 1_700_000_000_000 + Int64(index)))
        }
        #expect(decoder.decodeAll(consumed).compactMap(\.event).count == events.count)
    }

    /// Every truncation of a frame, and flipped bytes: no crash; a cut inside an entry's length or
    /// body makes the frame unreadable (nil), and an entry whose bytes are damaged is an issue of
    /// that entry alone.
    @Test func truncatedOrDamagedFramesAreUnreadableOrIssuesNeverCrashes() throws {
        let events = try Self.events().prefix(6)
        let decoder = try RepartitionDecoder()
        var frame = RepartitionFrame(partition: 0)
        for (index, (event, file)) in events.enumerated() {
            frame.append(event, enrichment: Self.enrichment, origin: Self.origin(file, index), arrival: 1, documents: false)
        }
        let value = try #require(frame.record(topic: "r").value)
        let whole = try #require(RepartitionFrame.entries(value))
        let ends = Set(whole.map(\.body.upperBound))
        for length in 0..<value.count {
            let cut = Array(value[..<length])
            if let entries = RepartitionFrame.entries(cut) {
                // Only a cut right after an entry leaves a (shorter) frame.
                #expect(ends.contains(length) && entries == Array(whole.prefix(entries.count)), "cut at \(length)")
            } else {
                var record = Self.consumed(ProducerRecord(topic: "r", key: nil, value: cut))
                record.value = cut
                #expect(decoder.decode(record).issue != nil, "cut at \(length)")
            }
        }
        var rng = SplitMix64(seed: 7)
        var unreadable = 0, entryIssues = 0
        for _ in 0..<2_000 {
            var damaged = value
            let at = 4 + Int(rng.next() % UInt64(damaged.count - 4))
            damaged[at] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
            let record = Self.consumed(ProducerRecord(topic: "r", key: nil, value: damaged))
            guard let entries = RepartitionFrame.entries(damaged) else {
                unreadable += 1
                continue
            }
            for entry in entries where decoder.decode(record, entry: entry).issue != nil { entryIssues += 1 }
        }
        #expect(unreadable > 0 && entryIssues > 0)
    }

    @Test func theCompactRecordIsSmallerThanVersionOne() throws {
        func size(_ r: ProducerRecord) -> Int {
            (r.value?.count ?? 0) + r.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
        }
        for (event, file) in try Self.events() {
            let v2 = RepartitionCodec.encode(event, enrichment: Self.enrichment, origin: Self.origin(file, 1), topic: "r")
            let v1 = RepartitionCodec.encodeVersion1(event, enrichment: Self.enrichment, origin: Self.origin(file, 1), topic: "r")
            #expect(size(v2) * 2 < size(v1), "\(file): \(size(v2)) bytes, version 1 \(size(v1))")
        }
    }

    /// Raw JSON paths, as rules name them, over every fixture shape (present on some, absent on others).
    static let rawPaths = ["annotations.\"authorization.k8s.io/decision\"", "responseStatus.details.kind", "sourceIPs[0]",
                           "responseStatus.metadata", "protoPayload.methodName", "resourceId", "properties.log",
                           "process.parent.executable", "category", "objectRef", "nothing.here"]

    @Test func rawPathReadsAreTheSameAfterTheRoundTripWithDocuments() throws {
        let decoder = try RepartitionDecoder()
        var present = 0
        for (index, (event, file)) in try Self.events().enumerated() {
            let record = RepartitionCodec.encode(event, enrichment: .none, origin: Self.origin(file, index), documents: true,
                                                 topic: "r")
            let back = try #require(decoder.decode(Self.consumed(record)).event)
            for text in Self.rawPaths {
                let path = try FieldPath(text)
                #expect(back.event.rawValue(at: path) == event.rawValue(at: path), "\(file) \(text)")
                if event.rawValue(at: path) != nil { present += 1 }
                #expect(back.event.value(named: text) == event.value(named: text))
            }
        }
        #expect(present >= 20)
    }

    @Test func documentsTravelOnlyForTheLogTypesOfRulesThatReadRawPaths() throws {
        func rule(_ id: String, _ types: String, _ condition: String, output: String = "[]") throws -> Rule {
            let dir = try temporaryDirectory()
            try write("""
                id: \(id)
                title: t
                severity: info
                log_types: \(types)
                where: \(condition)
                output: \(output)
                """, to: dir + "/r.yaml")
            let loaded = RuleLoader.check(directory: dir)
            #expect(loaded.problems.isEmpty, "\(loaded.problems)")
            return try #require(loaded.rules.first)
        }
        let seed = RuleLoader.check(directory: repositoryPath("topology/rules")).rules
        #expect(seed.count == 5)
        #expect(DocumentPolicy.carried(by: seed) == 0, "the seed rules read normalized fields only")
        let raw = try rule("A", "[Amazon.EKS.Audit]", #"annotations."authorization.k8s.io/decision" == "forbid""#)
        #expect(raw.rawPaths.map(\.dottedName) == ["annotations.authorization.k8s.io/decision"])
        let bits = DocumentPolicy.carried(by: seed + [raw])
        #expect(DocumentPolicy.carries(bits, .eksAudit))
        #expect(!DocumentPolicy.carries(bits, .gcpAuditLog) && !DocumentPolicy.carries(bits, .ecsProcess))
        // A raw path in the output alone counts too.
        let output = try rule("B", "[Amazon.EKS.Audit, GCP.AuditLog, ECS.Process, Azure.MonitorActivity, Kubernetes.Audit]",
                              "response.code == 403", output: "[responseStatus.details.kind, source.geo.city_name]")
        #expect(output.rawPaths.map(\.dottedName) == ["responseStatus.details.kind"])
        #expect(DocumentPolicy.carried(by: [output]) == DocumentPolicy.all)
        let geoOnly = try rule("C", "[GCP.AuditLog]", #"Country == "Germany" and user.name != null"#)
        #expect(DocumentPolicy.carried(by: [geoOnly]) == 0)
    }

    @Test func randomlyMutatedEventsRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5EED)
        let events = try Self.events().map(\.0)
        let decoder = try RepartitionDecoder()
        for round in 0..<600 {
            var event = events[round % events.count]
            Self.mutate(&event, &rng)
            let enrichment = Self.randomEnrichment(&rng)
            let origin = RawOrigin(topic: rng.string() ?? "", partition: Int32(truncatingIfNeeded: rng.next()),
                                   offset: Int64(bitPattern: rng.next()), index: rng.bool() ? nil : Int(rng.next() % 100_000))
            let documents = rng.bool()
            let arrival: Int64? = rng.bool() ? nil : Int64(bitPattern: rng.next())
            let record = RepartitionCodec.encode(event, enrichment: enrichment, origin: origin, arrival: arrival,
                                                 documents: documents, topic: "r")
            let consumed = Self.consumed(record)
            let back = try #require(decoder.decode(consumed).event, "round \(round)")
            #expect(back.event == (documents ? event : event.withoutDocuments), "round \(round): \(event.jsonLine())")
            #expect(back.event.extracted == event.extracted)
            #expect(back.enrichment.torExitIPs == enrichment.torExitIPs && back.enrichment.geoBuildEpoch == enrichment.geoBuildEpoch)
            #expect(back.enrichment == enrichment, "round \(round)")
            #expect(back.origin == origin)
        }
    }

    @Test func truncatedOrDamagedVersion2RecordsAreIssuesNeverCrashes() throws {
        let decoder = try RepartitionDecoder()
        var rng = SplitMix64(seed: 42)
        var damagedButDecoded = 0, issues = 0
        for (index, (event, file)) in try Self.events().enumerated() {
            let record = RepartitionCodec.encode(event, enrichment: Self.enrichment, origin: Self.origin(file, index),
                                                 documents: index % 2 == 0, topic: "r")
            let value = try #require(record.value)
            // Every truncation: a corrupt record (a value shorter than the magic is no repartition record at all).
            for length in 0..<value.count {
                var cut = Self.consumed(record)
                cut.value = Array(value[..<length])
                let issue = try #require(decoder.decode(cut).issue, "\(file) cut at \(length)")
                #expect(issue.reason == (length < 4 ? .missingField : .corruptRecord), "\(file) cut at \(length): \(issue)")
                if length >= 4 { #expect(issue.detail.contains("version 2")) }
            }
            // Bytes after the event.
            var longer = Self.consumed(record)
            longer.value = value + [0]
            #expect(decoder.decode(longer).issue?.reason == .corruptRecord)
            // Flipped bytes: an issue, or an event (a flipped character in a string is still a string).
            for _ in 0..<200 {
                var damaged = value
                let at = 4 + Int(rng.next() % UInt64(damaged.count - 4))
                damaged[at] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
                var flipped = Self.consumed(record)
                flipped.value = damaged
                switch decoder.decode(flipped) {
                case .event: damagedButDecoded += 1
                case .issue(let issue):
                    #expect(issue.reason == .corruptRecord)
                    issues += 1
                }
            }
            // A damaged parts block must not be answered from the cache: the same bytes twice.
            var again = Self.consumed(record)
            again.value = Array(value[..<(value.count - 1)])
            #expect(decoder.decode(again).issue?.reason == .corruptRecord)
        }
        #expect(issues > 0 && damagedButDecoded > 0)
        // An unknown log type code and unknown flags.
        let (event, _) = try #require(try Self.events().first)
        let record = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: "t", partition: 0, offset: 0),
                                             topic: "r")
        var value = try #require(record.value)
        // Magic, arrival, "t", partition 0, offset 0, no index, no geo, no Tor exits, three nil versions.
        let eventAt = 4 + 9 + 2 + 1 + 1 + 1 + 1 + 1 + 3
        #expect(value[eventAt] == event.logType.compactCode)
        value[eventAt] = 99
        var bad = Self.consumed(record)
        bad.value = value
        #expect(decoder.decode(bad).issue?.detail.contains("unknown log type") == true)
    }

    @Test func versionOneRecordsStillDecodeForARollingUpgrade() throws {
        let decoder = try RepartitionDecoder()
        for (index, (event, file)) in try Self.events().enumerated() {
            let origin = Self.origin(file, index)
            let record = RepartitionCodec.encodeVersion1(event, enrichment: Self.enrichment, origin: origin,
                                                         arrival: 1_700_000_000_123, topic: "r")
            #expect(record.headers.contains { $0.key == "vigil-repartition" && $0.value == Array("1".utf8) })
            let back = try #require(decoder.decode(Self.consumed(record)).event, "\(file)")
            #expect(back.event == event, "\(file): \(back.event.jsonLine())\n!= \(event.jsonLine())")
            #expect(back.enrichment == Self.enrichment)
            #expect(back.origin == origin)
            // Interleaved with version 2 records of the same events, as in flight during the upgrade.
            let v2 = RepartitionCodec.encode(event, enrichment: Self.enrichment, origin: origin, topic: "r")
            #expect(try #require(decoder.decode(Self.consumed(v2)).event).event == event.withoutDocuments)
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

    @Test func aksRecordsCarryTheClusterAndTheirEnvelopeWhenDocumentsTravel() throws {
        let aks = try Self.events().filter { $0.0.logType == .azureMonitorActivity }
        #expect(!aks.isEmpty)
        let decoder = try RepartitionDecoder()
        for (event, _) in aks {
            let record = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: "t", partition: 0, offset: 0),
                                                 documents: true, topic: "r")
            let back = try #require(decoder.decode(Self.consumed(record)).event)
            #expect(back.event.envelope == event.envelope && back.event.raw == event.raw)
            #expect(back.event.cluster == event.cluster)
            // In version 1 the cluster came back from resourceId even without the cluster header.
            var bare = Self.consumed(RepartitionCodec.encodeVersion1(event, enrichment: .none,
                                                                     origin: RawOrigin(topic: "t", partition: 0, offset: 0), topic: "r"))
            bare.headers.removeAll { $0.key == "vigil-cluster" }
            let v1 = try #require(decoder.decode(bare).event)
            if event.envelope?.text.contains("resourceId") == true { #expect(v1.event.cluster == event.cluster) }
        }
    }

    @Test func cloudWatchEntryTimeAndLogGroupClusterSurvive() throws {
        let line = try #require(try fixtureLines("eks-cloudwatch.jsonl").first)
        let events = try AuditRecordDecoder(format: .eks).decode(line).compactMap(\.event)
        #expect(events.count == 3)
        let decoder = try RepartitionDecoder()
        for event in events {
            for record in [RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: "t", partition: 0, offset: 0),
                                                   documents: true, topic: "r"),
                           RepartitionCodec.encodeVersion1(event, enrichment: .none,
                                                           origin: RawOrigin(topic: "t", partition: 0, offset: 0), topic: "r")] {
                let back = try #require(decoder.decode(Self.consumed(record)).event)
                #expect(back.event.cluster == event.cluster && event.cluster != nil)
                #expect(back.event.time == event.time)
                #expect(back.event == event)
            }
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

extension RepartitionCodecTests {
    /// Changes some of the event's fields to values of every shape: absent, empty, long, non-ASCII, extreme.
    static func mutate(_ e: inout AuditEvent, _ rng: inout SplitMix64) {
        func maybe(_ body: (inout SplitMix64) -> Void) { if rng.next() % 3 == 0 { body(&rng) } }
        maybe { e.logType = LogType.allCases[Int($0.next() % UInt64(LogType.allCases.count))] }
        maybe { r in e.time = r.bool() ? nil : EventTime(seconds: Int64(bitPattern: r.next()) >> 20,
                                                         nanoseconds: Int32(r.next() % 1_000_000_000)) }
        maybe { e.cluster = $0.string() }
        maybe { e.isKubernetes = $0.bool() }
        maybe { r in e.sourceIPs = (0..<Int(r.next() % 4)).map { _ in r.string() ?? "" } }
        maybe { r in e.user = UserInfo(name: r.string(), uid: r.string(), groups: (0..<Int(r.next() % 5)).map { _ in r.string() ?? "" }) }
        maybe { e.verb = $0.string() }
        maybe { r in
            var o = ObjectReference()
            o.resource = r.string(); o.subresource = r.string(); o.namespace = r.string()
            o.name = r.string(); o.apiGroup = r.string(); o.apiVersion = r.string()
            e.object = o
        }
        maybe { e.requestURI = $0.string() }
        maybe { r in
            var s = ResponseStatus()
            s.code = r.bool() ? nil : Int(Int64(bitPattern: r.next()))
            s.status = r.string(); s.reason = r.string(); s.message = r.string()
            s.grpcCode = r.bool() ? nil : Int(r.next() % 17)
            e.response = s
        }
        maybe { e.userAgent = $0.string() }
        maybe { e.stage = $0.string() }
        maybe { e.auditID = $0.string() }
        maybe { e.level = $0.string() }
        maybe { r in
            var a = AuthorizationAnnotations()
            a.decision = r.string(); a.reason = r.string()
            e.authorization = a
        }
        maybe { r in
            guard r.bool() else { e.process = nil; return }
            var p = ProcessDetails()
            p.name = r.string(); p.executable = r.string(); p.args = (0..<Int(r.next() % 6)).map { _ in r.string() ?? "" }
            p.interactive = r.bool() ? nil : r.bool()
            p.pid = r.bool() ? nil : Int64(bitPattern: r.next())
            p.parentName = r.string(); p.containerID = r.string(); p.containerImage = r.string(); p.hostOSType = r.string()
            p.eventTypes = (0..<Int(r.next() % 3)).map { _ in r.string() ?? "" }
            p.eventAction = r.string()
            p.eventCategories = (0..<Int(r.next() % 3)).map { _ in r.string() ?? "" }
            p.eventKind = r.string(); p.podNamespace = r.string(); p.podName = r.string()
            e.process = p
        }
        maybe { e.warnings = DecodeWarnings(rawValue: UInt32(truncatingIfNeeded: $0.next()) & 0x7F) }
        maybe { r in
            let values: [JSONValue?] = [nil, .null, .bool(true), .int(Int64(bitPattern: r.next())), .double(-1.5e300),
                                        .string(r.string() ?? ""), .array([.int(1), .string("x")]),
                                        .object([JSONValue.Member(key: "k.é", value: .array([]))])]
            e.extracted = (0..<Int(r.next() % 4)).map { _ in values[Int(r.next() % UInt64(values.count))] }
        }
    }

    static func randomEnrichment(_ rng: inout SplitMix64) -> EventEnrichment {
        var out = EventEnrichment()
        if rng.bool() {
            out.geo = rng.bool() ? enrichment.geo : GeoLocation(
                city: rng.string(), country: rng.string(), countryCode: rng.string(), region: rng.string(),
                regionCode: rng.string(), continent: rng.string(), continentCode: rng.string(), postalCode: rng.string(),
                timeZone: rng.string(), latitude: rng.bool() ? nil : Double(Int64(bitPattern: rng.next())) / 7,
                longitude: rng.bool() ? nil : -0.0, accuracyRadius: rng.bool() ? nil : Int(rng.next() % 1000),
                metroCode: rng.bool() ? nil : -Int(rng.next() % 1000))
        }
        out.torExitIPs = (0..<Int(rng.next() % 3)).map { _ in rng.string() ?? "" }
        out.geoDatabaseType = rng.string()
        out.geoBuildEpoch = rng.bool() ? nil : rng.next()
        out.torListTime = rng.bool() ? nil : Int64(bitPattern: rng.next())
        return out
    }
}

/// The values the round trips draw from LoadGen's seeded generator (a failing round replays).
extension SplitMix64 {
    mutating func bool() -> Bool { next() & 1 == 0 }

    /// nil, empty, short, non-ASCII, or long enough for a two-byte length.
    mutating func string() -> String? {
        switch next() % 7 {
        case 0: return nil
        case 1: return ""
        case 2: return "Zürich 🛰️"
        case 3: return String(repeating: "x", count: Int(next() % 15))
        case 4: return String(repeating: "ab/", count: 40 + Int(next() % 100))
        case 5: return "system:serviceaccount:kube-system:\(next() % 10)"
        default: return String(next(), radix: 36)
        }
    }
}
