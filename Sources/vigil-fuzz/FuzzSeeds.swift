import AuditEvents
import Detection
import Enrichment
import Foundation
import Runtime

/// Starting inputs for each target, made from the repository's own files (run from its root):
/// the decoder fixtures (each line once per decoder choice), their repartition values as
/// ingest writes them, the seed rules' conditions, the rule files and topologies, the Tor lists.
enum FuzzSeeds {
    /// The decoder fixtures (`VIGIL_FUZZ_FIXTURES`, else the test target's, from the working directory).
    static let fixtures = ProcessInfo.processInfo.environment["VIGIL_FUZZ_FIXTURES"] ?? "Tests/AuditEventsTests/Fixtures"

    /// Writes FOLDER/TARGET/N files; returns how many per target.
    static func write(to folder: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        func save(_ target: FuzzTarget, _ bytes: [UInt8]) throws {
            let dir = folder + "/" + target.rawValue
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let n = counts[target.rawValue, default: 0]
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/seed-\(n)"))
            counts[target.rawValue] = n + 1
        }
        let lines = try fixtureLines()
        let decoder = try AuditRecordDecoder()
        for (i, line) in lines.enumerated() {
            // Auto-detect, the line's own format, and one other choice, with raw paths on every other.
            for choice in Set([0, 1, i % FuzzTarget.decoders.count]) { try save(.decode, [UInt8(choice)] + line) }
            var outcomes: [DecodeOutcome] = []
            decoder.decode(AuditRecordDecoder.padded(line), into: &outcomes)
            for case .decoded(let event) in outcomes.prefix(2) {
                let record = RepartitionCodec.encode(event, enrichment: EventEnrichment(torExitIPs: event.sourceIPs),
                                                     origin: RawOrigin(topic: "eks", partition: 1, offset: Int64(i)),
                                                     arrival: 1, documents: i % 2 == 0, topic: "by-key")
                // The fuzz target puts the magic back from the first byte (0: version 2).
                try save(.repartition, [0] + (record.value ?? []).dropFirst(4))
            }
        }
        for rule in try RuleLoader.load(directory: "topology/rules") {
            try save(.condition, Array(rule.condition.text.utf8))
        }
        for file in try files(in: "topology/rules", suffix: ".yaml") { try save(.rule, try bytes(file)) }
        for file in ["topology/vigil.yaml", "ops/k8s/topology.yaml"] { try save(.topology, try bytes(file)) }
        for file in try files(in: "Tests/EnrichmentTests/Fixtures/tor", suffix: "") {
            try save(.tor, Array(try bytes(file).prefix(8192)))
        }
        return counts
    }

    static func fixtureLines() throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for cloud in ["eks", "aks", "gke", "process", "raw-k8s"] {
            for file in try files(in: fixtures + "/" + cloud, suffix: ".jsonl") {
                lines += try bytes(file).split(separator: UInt8(ascii: "\n")).map(Array.init)
            }
        }
        return lines
    }

    static func files(in folder: String, suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(suffix) && !$0.hasPrefix(".") }
            .sorted().map { folder + "/" + $0 }
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
