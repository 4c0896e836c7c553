import AuditEvents
import Detection
import Foundation
import KafkaIO
import KafkaIOTesting
@testable import Runtime
import Testing

/// Restored entries go to the worker their key's records are routed to, whatever the worker
/// count was when they were written; the old workers' progress follows the keys too.
@Suite struct ChangelogRoutingTests {
    /// Repartition records (partition 2, offsets from 0) of `seconds` unauthenticated 403s per
    /// IP of ``WorkerCountChangeTests/ips``, interleaved by time.
    static func records(_ topology: Topology, seconds: Range<Int>, from offset: Int64 = 0) throws -> [ConsumerRecord] {
        let raw = IngestStageTests.Raw(topic: "u-eks", format: .eks, lines: [])
        let decoder = try raw.decoder(topology)
        var out: [ConsumerRecord] = []
        for second in seconds {
            for ip in WorkerCountChangeTests.ips.indices {
                let line = try WorkerCountChangeTests.line(ip: ip, second: second)
                let event = try #require(decoder.decode(line).compactMap(\.event).first)
                let n = offset + Int64(out.count)
                let r = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: raw.topic, partition: 0, offset: n),
                                                topic: topology.topics.repartition.name)
                out.append(ConsumerRecord(topic: r.topic, partition: 2, offset: n, key: r.key, value: r.value, headers: r.headers))
            }
        }
        return out
    }

    /// `count` workers over `records` (each record to its slot), diffed after the batch: the
    /// alerts, and the changelog records in the order the workers returned them.
    static func run(_ workers: [DetectWorker], _ records: [ConsumerRecord], tp: TopicPartition) -> ([Alert], [ProducerRecord]) {
        var alerts: [Alert] = []
        var log: [ProducerRecord] = []
        for worker in workers {
            let mine = records.enumerated().filter { DetectProcessor.slot($0.element, workers.count) == worker.index }
            let e = worker.evaluate(mine.map { ($0.offset, $0.element) }, diffing: [tp])
            alerts += ChangelogTests.alerts(e)
            log += e.changes[tp] ?? []
        }
        return (alerts, log)
    }

    static func workers(_ topology: Topology, _ rules: [Rule], count: Int) throws -> [DetectWorker] {
        var t = topology
        t.workers.detect = count
        return try (0..<count).map { try DetectWorker(topology: t, rules: rules, shared: DetectShared(), index: $0) }
    }

    static func restore(_ workers: [DetectWorker], _ log: [ProducerRecord], tp: TopicPartition) -> [Int: ChangelogRecord.Restored] {
        let states = ChangelogProgressTests.snapshot(log).states(workers: workers.count).states
        for worker in workers { #expect(worker.restore(tp, states[worker.index] ?? ChangelogRecord.Restored()) == 0) }
        return states
    }

    /// Nine denials per IP in 2 workers, restored into 3 (and, after the tenth, into 2 again):
    /// every entry is in the worker its key's records now go to, so the tenth fires both 403
    /// thresholds of every IP as one engine does, same ids; the entries' old keys are
    /// tombstoned by the workers of their numbers; a restore of the log so written is exact.
    @Test(arguments: [(2, 3), (3, 2), (4, 3), (1, 4)])
    func restoredEntriesGoWhereTheirKeysRecordsGo(before: Int, after: Int) throws {
        let (topology, rules, _) = try ChangelogTests.setup()
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let nine = try Self.records(topology, seconds: 0..<9)
        let tenth = try Self.records(topology, seconds: 9..<10, from: Int64(nine.count))
        let (reference, _) = Self.run(try Self.workers(topology, rules, count: 1), nine + tenth, tp: tp)
        #expect(reference.count == 2 * WorkerCountChangeTests.ips.count)

        let (none, log) = Self.run(try Self.workers(topology, rules, count: before), nine, tp: tp)
        #expect(none.isEmpty)
        let entries = try log.filter { $0.key?.first == UInt8(ascii: "e") }
            .map { try JSONDecoder().decode(ChangelogRecord.Entry.self, from: Data($0.value ?? [])) }
        #expect(entries.count == 2 * WorkerCountChangeTests.ips.count)
        for e in entries { #expect(e.route.map { Int($0 % UInt64(before)) } == e.worker, "written with its key's route") }

        let moved = try Self.workers(topology, rules, count: after)
        let states = Self.restore(moved, log, tp: tp)
        for (w, restored) in states {
            for entry in restored.state.entries {
                #expect(restored.routes[entry.id].map { Int($0 % UInt64(after)) } == w)
            }
            #expect(restored.unrouted == 0)
        }
        let (alerts, rewritten) = Self.run(moved, tenth, tp: tp)
        #expect(alerts.map(\.id).sorted() == reference.map(\.id).sorted())

        // The first diffs after the move: each entry under its new worker's key, the old keys
        // tombstoned; the log read back restores exactly (no entry twice, none lost).
        let folded = ChangelogProgressTests.snapshot(log + rewritten)
        let live = folded.values.keys.filter { $0.hasPrefix("e/") }
        #expect(live.count == 2 * WorkerCountChangeTests.ips.count, "\(live.sorted())")
        let again = try Self.workers(topology, rules, count: after)
        let restoredAgain = Self.restore(again, log + rewritten, tp: tp)
        #expect(restoredAgain.values.reduce(0) { $0 + $1.state.entries.count } == live.count)
        for worker in again { #expect(worker.diff([tp])[tp] == [], "an exact restore has nothing to rewrite") }
    }

    /// A changelog whose entries carry no route (written before they did) still restores: under
    /// the same worker count as before, under another by the old worker's number, counted.
    @Test func entriesWithoutARouteRestoreByTheirOldWorker() throws {
        let (topology, rules, _) = try ChangelogTests.setup()
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let (_, log) = Self.run(try Self.workers(topology, rules, count: 2), try Self.records(topology, seconds: 0..<3), tp: tp)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let old = try log.map { record -> ProducerRecord in
            guard record.key?.first == UInt8(ascii: "e"), let value = record.value else { return record }
            var e = try JSONDecoder().decode(ChangelogRecord.Entry.self, from: Data(value))
            e.route = nil
            let json = String(decoding: try encoder.encode(e), as: UTF8.self)
            #expect(!json.contains("route"))
            var r = record
            r.value = Array(json.utf8)
            return r
        }
        let same = ChangelogProgressTests.snapshot(old).states(workers: 2).states
        #expect(same.values.allSatisfy { $0.unrouted == 0 })
        let three = ChangelogProgressTests.snapshot(old).states(workers: 3).states
        let total = three.values.reduce(0) { $0 + $1.state.entries.count }
        #expect(total == 2 * WorkerCountChangeTests.ips.count)
        #expect(three.values.reduce(0) { $0 + $1.unrouted } == total)
        #expect(three[2]?.state.entries.isEmpty ?? true, "old workers 0 and 1 keep their numbers")
    }

    /// A route is a full 64-bit hash: it survives the JSON round trip exactly.
    @Test func aRouteSurvivesItsJSON() throws {
        let entry = RuleStateEntry(ruleID: "r", key: "k", state: .threshold(ThresholdKeyState()))
        let e = ChangelogRecord.Entry(worker: 1, entry: entry, shape: nil, route: 0xfedc_ba98_7654_3211)
        let back = try JSONDecoder().decode(ChangelogRecord.Entry.self, from: JSONEncoder().encode(e))
        #expect(back.route == 0xfedc_ba98_7654_3211 && back == e)
    }

    /// After a count change a worker skips a record read again exactly when its key's old
    /// worker had applied it (a raw event produced again likewise); a gap notice lowers the old
    /// workers' positions as a worker's own; the legacy goes once passed.
    @Test func oldWorkersProgressFollowsTheKeys() throws {
        let encoder = JSONEncoder()
        func clock(_ worker: Int, applied: Int64, _ sources: [String: ChangelogRecord.RawPosition]) throws -> ProducerRecord {
            let c = ChangelogRecord.Clock(worker: worker, eventTime: 1, workers: 2, applied: applied, sources: sources)
            return ChangelogRecord.record(topic: "c", partition: 2, key: "c/\(worker)", value: Array(try encoder.encode(c)))
        }
        let log = [try clock(0, applied: 40, ["a/0": .init(offset: 90, index: -1)]),
                   try clock(1, applied: 25, ["a/0": .init(offset: 70, index: -1)])]
        let three = ChangelogProgressTests.snapshot(log).states(workers: 3).states
        let a0 = ChangelogRecord.RawPartition(topic: "a", partition: 0)
        for w in 0..<3 {
            #expect(three[w]?.applied == 25, "the lowest, for every key")
            #expect(three[w]?.sources == [a0: .init(offset: 70, index: -1)])
        }
        let legacy = try #require(three[1]?.legacy)
        let fresh = ChangelogRecord.RawPosition(offset: 200, index: -1)
        // Route 4: old worker 0 (applied 40); route 7: old worker 1 (applied 25).
        #expect(legacy.holds(fresh, from: a0, offset: 30, route: 4))
        #expect(!legacy.holds(fresh, from: a0, offset: 30, route: 7))
        #expect(!legacy.holds(fresh, from: a0, offset: 41, route: 4))
        #expect(legacy.holds(.init(offset: 80, index: -1), from: a0, offset: 100, route: 4), "a copy old worker 0 applied")
        #expect(!legacy.holds(.init(offset: 80, index: -1), from: a0, offset: 100, route: 7))
        var gap = legacy
        gap.reopen(a0, below: .init(offset: 79, index: .max), offset: 50)
        #expect(!gap.holds(.init(offset: 80, index: -1), from: a0, offset: 100, route: 4))
        #expect(gap.holds(.init(offset: 79, index: 3), from: a0, offset: 100, route: 4))
        #expect(legacy.pruned(passed: 40, own: [a0: .init(offset: 90, index: -1)]) == nil)
        #expect(legacy.pruned(passed: 30, own: [:])?.applied == [40, -1])
        // Written under the new count, the legacy comes back to the same worker.
        let c = ChangelogRecord.Clock(worker: 1, eventTime: 1, workers: 3, applied: 25, sources: [:], legacy: legacy)
        let again = ChangelogProgressTests.snapshot([ChangelogRecord.record(topic: "c", partition: 2, key: "c/1",
                                                                            value: Array(try encoder.encode(c)))])
        #expect(again.states(workers: 3).states[1]?.legacy == legacy)
    }
}
