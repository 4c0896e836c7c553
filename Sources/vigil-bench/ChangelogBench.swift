import ArgumentParser
import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
@_spi(Bench) import Runtime

/// `vigil-bench changelog`: the cost of one changelog diff of a detect partition holding many
/// state entries, when few of them changed: the engine's changed entries (now) against the whole
/// state compared with what was written (before), taken alternately on the same worker.
struct ChangelogBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changelog",
        abstract: "Changelog diff cost of a detect partition: changed entries only vs the whole state.")

    @Option(help: "The topology (rules, limits) the worker runs.")
    var topology: String = "topology/vigil.yaml"

    @Option(help: "An EKS audit event that the 403 threshold rules match (one JSON line).")
    var event: String = "Tests/RuntimeTests/Fixtures/eks-event.jsonl"

    @Option(help: "Distinct public source IPs in the partition (two threshold entries each).")
    var ips: Int = 20_000

    @Option(help: "Events between two diffs (on IPs the partition holds).")
    var changed: Int = 100

    @Option(help: "Diffs of each kind (alternating).")
    var rounds: Int = 10

    func run() throws {
        let (topology, rules) = try TopologyLoader.load(file: self.topology)
        let probe = try ChangelogDiffProbe(topology: topology, rules: rules)
        let line = try String(contentsOfFile: event, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
        let decoder = try AuditRecordDecoder(format: .eks)
        guard let template = decoder.decode(line).compactMap(\.event).first, let ip = template.sourceIPs.first else {
            throw ValidationError("\(event): no EKS event with a source IP")
        }
        let repartition = topology.topics.repartition.name
        var offset: Int64 = 0
        /// The event from `ip(i)`, `offset` seconds after the template's time.
        func record(_ i: Int) -> ConsumerRecord {
            let text = line.replacingOccurrences(of: "\"\(ip)\"", with: "\"34.\(i / 65536 % 256).\(i / 256 % 256).\(i % 256)\"")
            var e = decoder.decode(text).compactMap(\.event).first ?? template
            e.time?.seconds += offset / 1000
            let r = RepartitionCodec.encode(e, enrichment: .none, origin: RawOrigin(topic: "eks-audit", partition: 0, offset: offset),
                                            topic: repartition)
            defer { offset += 1 }
            return ConsumerRecord(topic: repartition, partition: 0, offset: offset, key: r.key, value: r.value, headers: r.headers)
        }
        // Fill the partition: one event per IP, then one whole diff writes everything.
        for start in stride(from: 0, to: ips, by: 1000) {
            _ = probe.evaluate((start..<min(start + 1000, ips)).map(record))
        }
        let first = probe.diff(whole: false)
        print("changelog benchmark: \(rules.count) rules, \(ips) IPs in one partition; the first diff wrote \(first) records")
        var times: [Bool: [Double]] = [true: [], false: []]
        var written: [Bool: [Int]] = [true: [], false: []]
        var cursor = 0
        for round in 0..<(2 * max(rounds, 1)) {
            let whole = round % 2 == 1
            _ = probe.evaluate((0..<changed).map { _ in
                cursor = (cursor + 7919) % ips
                return record(cursor)
            })
            let start = DecodeBench.threadCPUNanoseconds()
            let count = probe.diff(whole: whole)
            times[whole, default: []].append(Double(DecodeBench.threadCPUNanoseconds() - start) / 1e6)
            written[whole, default: []].append(count)
        }
        for whole in [false, true] {
            let sorted = (times[whole] ?? []).sorted()
            let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
            let records = written[whole] ?? []
            print(String(format: "%@: median %.2f ms per diff (min %.2f, max %.2f), %.0f records per diff",
                         whole ? "whole state (before)" : "changed entries (now)", median, sorted.first ?? 0,
                         sorted.last ?? 0, Double(records.reduce(0, +)) / Double(max(records.count, 1))))
        }
    }
}
