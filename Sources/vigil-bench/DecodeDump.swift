import AuditEvents
import Foundation
import LoadGen

/// `vigil-bench decode --dump FILE`: every decoded field of a large, fixed set of inputs, one
/// line each, so a change to the decoder can be checked byte for byte (`md5sum` of the file
/// before and after). Inputs: every line of the fixtures and of `../shared/data` (audit,
/// panther-tests, process), Event Hubs batches built from every AKS line (as it is, with
/// whitespace, and in threes), 20,000 seeded mutations of those lines (half one digit or letter
/// changed, half up to three byte-level edits), the unique-value and loadgen mixes. Decoders:
/// the six formats, the uncached one, one with a cluster label and extracted paths, one without
/// raw documents and one with 3 cache slots, each over the inputs twice (cold and warm caches).
/// Per event: every normalized field (`jsonLine`), the time to the nanosecond, the warnings, the
/// field readers the rules use, hashes of the raw document and envelope, the extracted
/// values, a hash of the compact (repartition) encoding with documents, and whether it decodes
/// back to an equal event that re-encodes to the same bytes.
enum DecodeDump {
    static func run(to path: String, fixtures: String, bench: [DecodeBench.Record], unique: [DecodeBench.Record],
                    loadgen: [DecodeBench.Record]) throws {
        var lines = fileLines(under: fixtures) + fileLines(under: "../shared/data/audit")
            + fileLines(under: "../shared/data/panther-tests") + fileLines(under: "../shared/data/process")
        let aks = lines.filter { line in
            line.count > 2 && line.first == UInt8(ascii: "{") && line.firstRange(of: Array("\"category\"".utf8)) != nil
        }
        var batches: [[UInt8]] = []
        for (i, line) in aks.enumerated() {
            batches.append(Array("{\"records\":[".utf8) + line + Array("]}".utf8))
            batches.append(Array("{ \"records\" : [\n  ".utf8) + line + Array(" \n] }\n".utf8))
            if i + 2 < aks.count {
                batches.append(Array("{\"records\":[".utf8) + line + [44] + aks[i + 1] + [44] + aks[i + 2]
                    + Array("]}".utf8))
            }
        }
        let mutations = mutate(lines, count: 20_000)
        lines += batches + mutations + bench.map(\.bytes) + unique.map(\.bytes) + loadgen.map(\.bytes)

        let paths = try ["objectRef.name", "annotations.\"authorization.k8s.io/decision\"", "protoPayload.methodName",
                         "process.args", "user.extra", "properties.log"].map { try FieldPath($0) }
        var configurations: [(String, () throws -> AuditRecordDecoder)] = SourceFormat.allCases.map { format in
            (format.rawValue, { try AuditRecordDecoder(format: format) })
        }
        configurations += [
            ("uncached", { try AuditRecordDecoder(options: DecoderOptions(stringCacheSlots: 0)) }),
            ("label+paths", {
                try AuditRecordDecoder(options: DecoderOptions(clusterLabel: "dump-cluster", extractedPaths: paths))
            }),
            ("no-raw", { try AuditRecordDecoder(options: DecoderOptions(keepRaw: false)) }),
            ("3-slots", { try AuditRecordDecoder(options: DecoderOptions(stringCacheSlots: 3)) }),
        ]
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let out = FileHandle(forWritingAtPath: path) else { throw DumpError.cannotWrite(path) }
        defer { try? out.close() }
        var buffer = ""
        var written = 0, events = 0, roundTrips = 0
        func emit(_ line: String) {
            buffer += line
            buffer += "\n"
            written += 1
            if buffer.utf8.count > 1 << 20 {
                out.write(Data(buffer.utf8))
                buffer = ""
            }
        }
        var outcomes: [DecodeOutcome] = []
        for (name, make) in configurations {
            let decoder = try make()
            let compact = CompactEventDecoder()
            for pass in ["cold", "warm"] {
                for (n, line) in lines.enumerated() {
                    outcomes.removeAll(keepingCapacity: true)
                    decoder.decode(line, into: &outcomes)
                    for (k, outcome) in outcomes.enumerated() {
                        let head = "\(name) \(pass) \(n).\(k) "
                        guard let event = outcome.event else {
                            emit(head + outcome.label + " " + (outcome.issue.map { "\($0)" } ?? ""))
                            continue
                        }
                        events += 1
                        let (text, same) = describe(event, compact)
                        if same { roundTrips += 1 }
                        emit(head + text)
                    }
                }
            }
        }
        out.write(Data(buffer.utf8))
        print("dumped \(written) lines to \(path): \(lines.count) inputs, \(configurations.count) decoders "
            + "x cold/warm, \(events) events, \(roundTrips) compact round trips equal")
    }

    /// One line for an event; true when its compact form decodes to an equal event that
    /// re-encodes to the same bytes.
    static func describe(_ event: AuditEvent, _ compact: CompactEventDecoder) -> (String, Bool) {
        var writer = CompactWriter()
        event.writeCompact(into: &writer, documents: true)
        var same = false
        writer.bytes.withUnsafeBufferPointer { bytes in
            var reader = compact.reader(bytes)
            if let back = compact.readEvent(&reader).event, reader.atEnd, back == event {
                var again = CompactWriter()
                back.writeCompact(into: &again, documents: true)
                same = again.bytes == writer.bytes
            }
        }
        let time = event.time.map { "\($0.seconds).\($0.nanoseconds)" } ?? "-"
        let extracted = event.extracted.map { $0?.jsonText ?? "absent" }.joined(separator: ",")
        let readers: [String?] = [
            event.verb, event.requestURI, event.userAgent, event.stage, event.level, event.auditID,
            event.userName, event.userUID, event.objectResource, event.objectSubresource, event.objectNamespace,
            event.objectName, event.objectAPIGroup, event.objectAPIVersion, event.responseStatus,
            event.responseReason, event.responseMessage, event.authorizationDecision, event.authorizationReason,
            event.sourceIP, event.cluster,
        ]
        let text = event.jsonLine() + " t=\(time) w=\(event.warnings.rawValue) k=\(event.isKubernetes)"
            + " object.name=\(event.object.name ?? "nil") uid=\(event.user.uid ?? "nil")"
            + " pid=\(event.process?.pid ?? -1) image=\(event.process?.containerImage ?? "nil")"
            + " ips=\(event.sourceIPs) groups=\(event.userGroups) code=\(event.responseCode ?? -1)"
            + "/\(event.responseGRPCCode ?? -1) readers=\(readers.map { $0 ?? "nil" })"
            + " raw=\(fnv(event.raw.bytes)) envelope=\(event.envelope.map { String(fnv($0.bytes)) } ?? "-")"
            + " extracted=[\(extracted)] compact=\(fnv(writer.bytes)) roundtrip=\(same)"
        return (text, same)
    }

    static func fnv(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Every line of every `.jsonl`/`.json` file below `folder`, files in sorted order.
    static func fileLines(under folder: String) -> [[UInt8]] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        let names = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".json") }
        return names.sorted().flatMap { name -> [[UInt8]] in
            guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { return [] }
            return data.split(separator: 10, omittingEmptySubsequences: true).map { Array($0) }
        }
    }

    /// `count` seeded mutations of `lines`: half change one digit or letter, half make one to
    /// three byte-level edits (replace, insert, delete, duplicate a span).
    static func mutate(_ lines: [[UInt8]], count: Int) -> [[UInt8]] {
        let pool = lines.filter { !$0.isEmpty }
        guard !pool.isEmpty else { return [] }
        var random = SplitMix64(seed: 0x5EED)
        func next() -> Int { Int(truncatingIfNeeded: random.next() >> 1) }
        return (0..<count).map { i in
            var b = pool[next() % pool.count]
            if i % 2 == 0 {
                for _ in 0..<64 {
                    let at = next() % b.count
                    let c = b[at]
                    if c >= 48 && c <= 57 { b[at] = UInt8(48 + next() % 10); break }
                    if c >= 97 && c <= 122 { b[at] = UInt8(97 + next() % 26); break }
                }
            } else {
                for _ in 0...(next() % 3) where !b.isEmpty {
                    let at = next() % b.count
                    switch next() % 4 {
                    case 0: b[at] = UInt8(truncatingIfNeeded: next())
                    case 1: b.insert(UInt8(truncatingIfNeeded: next()), at: at)
                    case 2: b.remove(at: at)
                    default:
                        let end = min(b.count, at + 1 + next() % 16)
                        b.insert(contentsOf: Array(b[at..<end]), at: at)
                    }
                }
            }
            return b
        }
    }

    enum DumpError: Error { case cannotWrite(String) }
}
