@testable import AuditEvents
import CSimdJSON
import Testing

/// A plain AKS diagnostic record read from the parser's first stage (its
/// envelope's document never built, `properties.log` unescaped 64 bytes a step)
/// must decode to exactly what the document path makes of it, and anything the
/// reading does not take must fall back to that path unchanged.
@Suite struct AzureEnvelopeTests {
    /// Envelopes around the edges of what the reading takes: escapes of every kind in
    /// the log, whitespace, duplicates, members of other shapes, other categories,
    /// logs that are not an audit Event, escapes outside the log.
    /// `«pad»` stands for ~700 bytes of escaped quotes: without it these records would be
    /// too short for the reading to be tried (fewer than 16 bytes a structural).
    static let shapes: [String] = [
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"kind\":\"Event\",\"verb\":\"get\",\"sourceIPs\":[\"1.2.3.4\"]}"}}"#,
        #"{ "category" : "kube-audit-admin" , "properties" : { "log" : "{\"pad\":\"«pad»\",\"verb\":\"x\\ny\\t\\/\\\\\\\"\",\"user\":{\"username\":\"a\\u0041\"}}" , "pod":"p" } , "time":"2026-01-01T00:00:00Z" }"#,
        #"{"properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"\\u0041\"}"},"resourceId":"/x/MANAGEDCLUSTERS/c1"}"#,
        #"{"properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"list\"}"},"properties":{"log":"[1]"},"category":"kube-audit","category":"other"}"#,
        #"{"category":"kube-audit","properties":{},"properties":{"log":"{\"pad\":\"«pad»\"}"}}"#,
        #"{"p_source_label":"lbl","time":"2026-02-03T04:05:06.7Z","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\",\"b\":[1,2,{\"c\":null}]}"}}"#,
        #"{"resourceId":"/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/aks-1","p_source_label":"lbl","properties":{"log":"{\"pad\":\"«pad»\"}"}}"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"\\b\\f\\r\"}"},"x":"\u00e9"}"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"é\\\"\\\\\"}"},"operationName":"Read"}"#,
        #"{"category":"cluster-autoscaler","properties":{"log":"I1122 controller started «pad»"}}"#,
        #"{"category":"kube-audit","properties":{"log":"not json «pad»"}}"#,
        #"{"category":"kube-audit","properties":{"log":"[\"«pad»\"]"}}"#,
        #"{"category":"kube-audit","properties":{"log":""}}"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}","log":"{\"verb\":\"delete\"}"}}"#,
        #"{"category":"kube-audit","time":"not a time","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"}}"#,
        #"{"category":"kube-audit","time":"","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"}}"#,
        #"{"category":"kube-audit","records":"x","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"}}"#,
        #"{"category":"kube-audit","protoPayload":"x","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"}}"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"}} trailing"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"},}"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"},"level":3}"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"} \\"}}"#,
        #"{"p_log_type":"Azure.MonitorActivity","p_any_ip_addresses":["10.0.0.1","10.0.0.2"],"p_any_usernames":[],"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"}}"#,
        #"{"p_log_type":"GCP.AuditLog","category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"}}"#,
        #"{"p_any_ip_addresses":["10.0.0.1",2],"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}"}}"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}","tags":["a"]}}"#,
        // A second log is not read, but its escapes must be as valid as the first's (\q is not).
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}","log":"\q"}}"#,
        #"{"category":"kube-audit","properties":{"log":"{\"pad\":\"«pad»\",\"verb\":\"get\"}","log":"\n"}}"#,
    ].map { $0.replacingOccurrences("«pad»", String(repeating: #"x\\\"y"#, count: 120)) }

    /// Event Hubs batches of the shapes, and batches the reading leaves to the document.
    static let batches: [String] = {
        var out: [String] = []
        for start in stride(from: 0, to: shapes.count, by: 3) {
            out.append(#"{"records":["# + shapes[start..<min(start + 3, shapes.count)].joined(separator: ",") + "]}")
        }
        let one = shapes[0]
        out += [#"{"records":[]}"#, #"{"records":[\#(one),1]}"#, #"{"records":[\#(one)],"x":"y"}"#,
                #"{"x":"y","records":[\#(one)]}"#, #"{ "records" : [ \#(one) , \#(one) ] }"#,
                #"{"records":[\#(one.replacingOccurrences(#""category""#, #""messageType":"m","category""#))]}"#]
        return out
    }()

    /// An outcome, all of it: the event's fields, raw and envelope bytes, or the issue.
    static func describe(_ outcomes: [DecodeOutcome]) -> [String] {
        outcomes.map { outcome in
            switch outcome {
            case .decoded(let e):
                return "decoded \(e.jsonLine()) raw=\(e.raw.bytes) envelope=\(e.envelope?.bytes ?? [])"
            case .skipped(let issue): return "skipped \(issue.reason) \(issue.detail) \(issue.position ?? -1)"
            case .deadLetter(let issue): return "dead \(issue.reason) \(issue.detail) \(issue.position ?? -1)"
            }
        }
    }

    /// Records as KafkaIO hands them over (padded) and as an array without spare capacity.
    static func inputs(_ line: [UInt8]) -> [[UInt8]] {
        [AuditRecordDecoder.padded(line), Array(line)]
    }

    static func takesReading(_ record: [UInt8]) throws -> Bool {
        let parser = try #require(SimdJSONParser(maxCapacity: 1 << 20, maxDepth: 128))
        if case .azure = parser.parse(record, readingAzure: true, { _ in }) { return true }
        return false
    }

    @Test func plainRecordsAreReadWithoutTheirDocument() throws {
        // The shapes fixture: a record as AKS writes it; a short one (its log too short for the
        // reading to pay: fewer than 16 bytes a structural); one whose log is an object.
        let shapes = Fixtures.lines(Fixtures.directory + "/aks/vigil-aks-shapes.jsonl")
        try #require(shapes.count == 3)
        for (line, taken) in zip(shapes, [true, false, false]) {
            for record in Self.inputs(line) { #expect(try Self.takesReading(record) == taken) }
        }
        // Other shapes, and envelopes the reading leaves to the document.
        let others = ["eks", "gke", "process"].flatMap { Fixtures.files(in: $0, suffix: ".jsonl") }
            .flatMap { Fixtures.lines($0) }
        #expect(others.count > 100)
        for line in others { #expect(try !Self.takesReading(AuditRecordDecoder.padded(line))) }
        // The batch fixture has an element whose log is an object.
        for batch in Fixtures.lines(Fixtures.directory + "/aks/vigil-eventhubs-batch.jsonl") {
            #expect(try !Self.takesReading(AuditRecordDecoder.padded(batch)))
        }
        // Panther's AKS records (p_log_type Azure.MonitorActivity, p_any_* arrays), but the short ones.
        let panther = Fixtures.lines(Fixtures.directory + "/aks/panther-aks-kube-audit-tests.jsonl")
        #expect(try panther.filter { try Self.takesReading(AuditRecordDecoder.padded($0)) }.count >= 20)
        let batch = #"{"records":["# + Self.shapes[0] + "," + Self.shapes[5] + "]}"
        #expect(try Self.takesReading(AuditRecordDecoder.padded(Array(batch.utf8))))
    }

    @Test func unescapingMatchesTheDocument() throws {
        // Every escape the reading takes, across 64-byte blocks, against simdjson's own unescaping.
        let pieces = ["a", #"\""#, #"\\"#, #"\/"#, #"\n"#, #"\t"#, #"\b"#, #"\f"#, #"\r"#, "é", "x", #"\u00e9"#, #"\q"#]
        var rng = MutationFuzzTests.Generator(state: 0xE5CA_9E00)
        var taken = 0
        for _ in 0..<20_000 {
            var content = ""
            let length = Int.random(in: 0...300, using: &rng)
            while content.utf8.count < length {
                let k = Int.random(in: 0..<pieces.count, using: &rng)
                content += k >= 11 && Int.random(in: 0..<8, using: &rng) > 0 ? "a" : pieces[k]
            }
            let source = Array(content.utf8)
            var out = [UInt8](repeating: 0, count: source.count + Int(VJ_PADDING))
            var written = 0
            let ok = vj_unescape_fast(source, source.count, &out, &written)
            let parser = try #require(SimdJSONParser(maxCapacity: 1 << 20, maxDepth: 8))
            guard case .parsed(let node) = parser.parse(Array("\"\(content)\"".utf8)) else {
                #expect(!ok, "\(content)")
                continue
            }
            guard ok else { continue }  // \u and invalid escapes are left to the document
            taken += 1
            #expect(Array(out[0..<written]) == Array(try #require(node.stringBytes)), "\(content)")
        }
        #expect(taken > 4_000)
    }

    @Test func sameOutcomesWithAndWithoutTheReading() throws {
        var samples = Fixtures.files(in: "aks", suffix: ".jsonl").flatMap { Fixtures.lines($0) }
        samples += (Self.shapes + Self.batches).map { Array($0.utf8) }
        let plain = try samples.filter { try Self.takesReading(AuditRecordDecoder.padded($0)) }
        #expect(plain.count >= 10)
        var rng = MutationFuzzTests.Generator(state: 0xA2E5_0001)
        let mutated = (0..<20_000).map { k in
            MutationFuzzTests.mutate((k.isMultiple(of: 2) ? plain : samples).randomElement(using: &rng) ?? [], &rng)
        }
        var taken = 0
        // Depth 4 lets a batch's properties object be one level too deep for stage 2; 3, a record's.
        for (format, depth) in [(SourceFormat.auto, 64), (.aks, 64), (.auto, 4), (.aks, 3)] {
            let reading = try AuditRecordDecoder(format: format, options: DecoderOptions(maxDepth: depth))
            let document = try AuditRecordDecoder(
                format: format, options: DecoderOptions(maxDepth: depth, readsAzureEnvelopes: false))
            for line in samples + mutated {
                for record in Self.inputs(line) {
                    var a: [DecodeOutcome] = [], b: [DecodeOutcome] = []
                    reading.decode(record, into: &a)
                    document.decode(record, into: &b)
                    #expect(Self.describe(a) == Self.describe(b), "\(String(decoding: line, as: UTF8.self))")
                    if format == .aks, depth == 64, try Self.takesReading(record) { taken += 1 }
                }
            }
        }
        #expect(taken > 2_000)
    }
}
