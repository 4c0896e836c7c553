import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import Runtime

/// The parsers of what reaches Vigil from outside, each fed one input at a time, with the
/// checks that hold for every input (a failed one traps, which the fuzzer reports as a crash):
///
/// - `decode`: a raw record through a decoder (the first byte picks the format and whether
///   raw paths are extracted); each event rendered as `vigil decode` prints it, encoded as
///   ingest writes it to the repartition topic and decoded again as detect reads it (the
///   rebuilt event must render the same), and evaluated by the seed rules.
/// - `repartition`: a repartition record's value (the first byte picks a version-2 or frame
///   prefix, or none) through detect's decoder, and its events through the seed rules.
/// - `condition`: a rule condition; one that compiles is evaluated on sample events both as
///   compiled for events and as planned for any context (the two must agree).
/// - `rule`, `topology`: a rule file, a topology file (YAML), loaded and checked.
/// - `tor`: a Tor exit list body in each format and detected.
enum FuzzTarget: String, CaseIterable {
    case decode, repartition, condition, rule, topology, tor

    func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .decode: Self.decode(bytes)
        case .repartition: Self.repartition(bytes)
        case .condition: Self.condition(bytes)
        case .rule: Self.yamlFile(bytes, name: "rule.yaml") { _ = RuleLoader.check(files: [$0]) }
        case .topology: Self.yamlFile(bytes, name: "topology.yaml") { _ = TopologyLoader.check(file: $0) }
        case .tor: Self.tor(bytes)
        }
    }

    // MARK: decode

    /// Decoders by the input's first byte: auto-detect and each format, with and without
    /// extracted raw paths (what a rule naming a raw field makes the decoder do).
    static let rawPaths = [#"annotations."authorization.k8s.io/decision""#, "requestObject.spec.containers",
                           "protoPayload.request", "properties.log", "process.args", "responseStatus.code",
                           "logEvents", "records"].map { try! FieldPath($0) }

    nonisolated(unsafe) static let decoders: [AuditRecordDecoder] = {
        let paths = rawPaths
        var all: [AuditRecordDecoder] = []
        for format in [SourceFormat.auto, .eks, .aks, .gke, .kubernetes, .process] {
            all.append(try! AuditRecordDecoder(format: format))
            all.append(try! AuditRecordDecoder(format: format,
                                               options: DecoderOptions(extractedPaths: paths, stringCacheSlots: 64)))
        }
        return all
    }()

    /// For the decoders that read a plain AKS record without its document, the same decoder
    /// building every document: both must agree.
    nonisolated(unsafe) static let documentTwins: [AuditRecordDecoder?] = decoders.map { decoder in
        guard decoder.readsAzureRecords else { return nil }
        var options = decoder.options
        options.readsAzureEnvelopes = false
        return try! AuditRecordDecoder(format: decoder.format, options: options)
    }

    nonisolated(unsafe) static let repartitionDecoder = try! RepartitionDecoder()

    /// The seed rules (`VIGIL_FUZZ_RULES`, else topology/rules from the working directory).
    static let rules: [Rule] = {
        let folder = ProcessInfo.processInfo.environment["VIGIL_FUZZ_RULES"] ?? "topology/rules"
        do {
            return try RuleLoader.load(directory: folder)
        } catch {
            fatalError("vigil-fuzz: cannot load the rules in \(folder) (run from the repository, or set VIGIL_FUZZ_RULES): \(error)")
        }
    }()

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let first = bytes.first else { return }
        let decoder = decoders[Int(first) % decoders.count]
        var outcomes: [DecodeOutcome] = []
        let record = first & 0x40 != 0 ? AuditRecordDecoder.padded(bytes.dropFirst()) : Array(bytes.dropFirst())
        decoder.decode(record, into: &outcomes)
        if let twin = documentTwins[Int(first) % decoders.count] {
            var built: [DecodeOutcome] = []
            twin.decode(record, into: &built)
            let (a, b) = (outcomes.map(describe), built.map(describe))
            if a != b { fatalError("the AKS envelope reading and the document disagree:\n\(a)\n\(b)") }
        }
        var evaluated: [(AuditEvent, EventEnrichment, EventOrigin)] = []
        for (n, outcome) in outcomes.enumerated() {
            guard case .decoded(let event) = outcome else { continue }
            roundTrip(event, line: event.jsonLine(), documents: first & 0x80 != 0, index: n)
            evaluated.append((event, enrichment(for: event, seed: first), .kafka(topic: "fuzz", partition: 0, offset: Int64(n))))
        }
        evaluate(evaluated)
    }

    /// An outcome, all of it: the event's fields with its raw and envelope bytes, or the issue.
    static func describe(_ outcome: DecodeOutcome) -> String {
        switch outcome {
        case .decoded(let e): return "decoded \(e.jsonLine()) raw=\(e.raw.bytes) envelope=\(e.envelope?.bytes ?? [])"
        case .skipped(let issue): return "skipped \(issue.reason) \(issue.detail) \(issue.position ?? -1)"
        case .deadLetter(let issue): return "dead \(issue.reason) \(issue.detail) \(issue.position ?? -1)"
        }
    }

    /// The seed rules over one input's events, on an engine of its own (an input's outcome does
    /// not depend on the inputs before it), every alert rendered, open windows closed at the end.
    static func evaluate(_ events: [(AuditEvent, EventEnrichment, EventOrigin)]) {
        var engine = DetectionEngine(rules: rules)
        for (event, enrichment, origin) in events {
            for alert in engine.process(event, enrichment: enrichment, origin: origin) { _ = alert.json }
        }
        for alert in engine.finish() { _ = alert.json }
    }

    /// Ingest's encoding and detect's decoding give back an event that renders the same, with
    /// the same extracted values and, when the documents travel, the same raw fields.
    static func roundTrip(_ event: AuditEvent, line: String, documents: Bool, index: Int) {
        let origin = RawOrigin(topic: "fuzz", partition: 0, offset: 7, index: index)
        let record = RepartitionCodec.encode(event, enrichment: EventEnrichment(), origin: origin, arrival: 1,
                                             documents: documents, topic: "fuzz.by-key")
        let consumed = ConsumerRecord(topic: record.topic, partition: 0, offset: 0, key: record.key, value: record.value,
                                      headers: record.headers)
        let outcomes = repartitionDecoder.decodeAll(consumed)
        guard outcomes.count == 1, case .event(let rebuilt) = outcomes[0] else {
            fatalError("repartition round trip: \(outcomes) for \(line)")
        }
        let again = rebuilt.event.jsonLine()
        if again != line { fatalError("repartition round trip changed the event:\n\(line)\n\(again)") }
        if rebuilt.event.extracted != event.extracted {
            fatalError("repartition round trip changed the extracted values of \(line)")
        }
        if documents {
            for path in rawPaths where rebuilt.event.rawValue(at: path) != event.rawValue(at: path) {
                fatalError("repartition round trip changed the raw field \(path) of \(line)")
            }
        }
    }

    /// Enrichment as ingest could attach it: a location when `seed` has 0x20, the source IP on
    /// the Tor list when it has 0x40 (so the location- and Tor-keyed rules and fields run too).
    static func enrichment(for event: AuditEvent, seed: UInt8) -> EventEnrichment {
        var e = EventEnrichment()
        if seed & 0x20 != 0 { e.geo = GeoLocation(city: "Berlin", country: "Germany", countryCode: "DE") }
        if seed & 0x40 != 0, let ip = event.sourceIP { e.torExitIPs = [ip] }
        return e
    }

    // MARK: repartition

    static func repartition(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let first = bytes.first else { return }
        let prefix: [UInt8]
        switch first % 3 {
        case 0: prefix = [0x56, 0x47, 0x52, 0x02]  // version 2 (RepartitionCodec.magic)
        case 1: prefix = [0x56, 0x47, 0x52, 0x03]  // a frame (RepartitionFrame.magic)
        default: prefix = []                         // version 1: headers and a document
        }
        let headers = first % 3 == 2
            ? [KafkaHeader(key: "vigil-log-type", string: LogType.allCases[Int(first >> 2) % LogType.allCases.count].rawValue),
               KafkaHeader(key: "vigil-source-topic", string: "eks"), KafkaHeader(key: "vigil-source-offset", string: "3")]
            : []
        let record = ConsumerRecord(topic: "fuzz.by-key", partition: 0, offset: 0, key: nil,
                                    value: prefix + bytes.dropFirst(), headers: headers)
        var evaluated: [(AuditEvent, EventEnrichment, EventOrigin)] = []
        for (n, outcome) in repartitionDecoder.decodeAll(record).enumerated() {
            guard case .event(let e) = outcome else { continue }
            _ = e.event.jsonLine()
            evaluated.append((e.event, e.enrichment, .kafka(topic: e.origin.topic, partition: e.origin.partition, offset: Int64(n))))
        }
        evaluate(evaluated)
    }

    // MARK: condition

    /// Events to evaluate conditions on: every fixture line of each cloud and process events.
    static let sampleEvents: [AuditEvent] = {
        let decoder = try! AuditRecordDecoder()
        var events: [AuditEvent] = []
        for line in (try? FuzzSeeds.fixtureLines()) ?? [] {
            var outcomes: [DecodeOutcome] = []
            decoder.decode(AuditRecordDecoder.padded(line), into: &outcomes)
            events += outcomes.compactMap(\.event)
        }
        if events.isEmpty { fatalError("vigil-fuzz: no sample events under \(FuzzSeeds.fixtures)") }
        return events
    }()

    static func condition(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let condition = try? Condition(String(decoding: bytes, as: UTF8.self)) else { return }
        for (n, event) in sampleEvents.enumerated() {
            let seed: UInt8 = (n % 3 == 0 ? 0x20 : 0) | (n % 2 == 0 ? 0x40 : 0)
            let context = AuditEventContext(event: event, enrichment: enrichment(for: event, seed: seed))
            let compiled = condition.evaluate(context)
            let planned = Self.planned(condition, context)
            if compiled != planned {
                fatalError("condition \(condition.text): compiled \(compiled), planned \(planned) on \(event.jsonLine())")
            }
        }
    }

    /// The generic evaluation (the plan, as for any context), not the program lowered for events.
    static func planned<C: EvaluationContext>(_ condition: Condition, _ context: C) -> Bool {
        condition.evaluate(context)
    }

    // MARK: files

    /// The input as a file of its own (the loaders read paths), in a folder made once.
    static func yamlFile(_ bytes: UnsafeBufferPointer<UInt8>, name: String, _ body: (String) -> Void) {
        let path = scratch + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: Data(buffer: bytes)) else {
            fatalError("vigil-fuzz: cannot write \(path)")
        }
        body(path)
    }

    static let scratch: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let dir = base + "/vigil-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir + "/rules", withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: FuzzTarget.scratch) }  // libFuzzer ends with exit()
        return dir
    }()

    // MARK: tor

    static func tor(_ bytes: UnsafeBufferPointer<UInt8>) {
        let body = Array(bytes)
        for format in [nil] + TorExitListFormat.allCases.map(Optional.some) {
            guard let (_, observations) = try? TorExitListParser.parse(body, format: format, fetchedAt: 1_700_000_000)
            else { continue }
            _ = observations.count
        }
    }
}
