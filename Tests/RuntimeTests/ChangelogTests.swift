import AuditEvents
import Detection
import Foundation
import KafkaIO
import KafkaIOTesting
@testable import Runtime
import Testing

/// The changelog diff and restore without a broker: what a worker writes after each batch,
/// tombstones for entries that ended, and state rebuilt from the records alone.
@Suite struct ChangelogTests {
    static func setup() throws -> (Topology, [Rule], [ConsumerRecord]) {
        let dir = try temporaryDirectory()
        let raw = IngestStageTests.Raw(topic: "u-eks", format: .eks, lines: [])
        try write(IngestStageTests.topology("127.0.0.1:9092", name: "u", raws: [raw]), to: dir + "/t.yaml")
        let (topology, rules) = try TopologyLoader.load(file: dir + "/t.yaml")
        let decoder = try raw.decoder(topology)
        var records: [ConsumerRecord] = []
        let lines = try DetectStateTests.denials(0..<10)
        let otherIP = lines[9].replacingOccurrences(of: "176.95.188.101", with: "81.2.69.160")
        let twoHoursLater = otherIP.replacingOccurrences(of: "2023-12-07T14:45:09", with: "2023-12-07T16:45:09")
        for (i, line) in (lines + [otherIP, twoHoursLater]).enumerated() {
            let event = try #require(decoder.decode(line).compactMap(\.event).first)
            let r = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: raw.topic, partition: 0, offset: Int64(i)),
                                            topic: topology.topics.repartition.name)
            records.append(ConsumerRecord(topic: r.topic, partition: 2, offset: Int64(i), key: r.key, value: r.value,
                                          headers: r.headers))
        }
        return (topology, rules, records)
    }

    static func alerts(_ e: DetectWorker.Evaluation) -> [Alert] {
        e.outcomes.flatMap { (try? $0.1.get()) ?? [] }
    }

    @Test func workersWriteChangedEntriesTombstonesAndTheClockAndStateComesBackFromThem() throws {
        let (topology, rules, records) = try Self.setup()
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let worker = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        // Batches 2 s of wall clock apart: past the first idle_advance (1 s), in which a new
        // partition's clock is held where it is (Runtime README, "Event time").
        let t0 = ContinuousClock.now
        let first = worker.evaluate(records[0..<5].enumerated().map { ($0.offset, $0.element) }, diffing: [tp], now: t0)
        #expect(Self.alerts(first).isEmpty)
        let written = try #require(first.changes[tp])
        var keys = written.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        #expect(keys.filter { $0.hasPrefix("e/1/") }.count == 2, "\(keys)")
        #expect(keys.contains("c/1"))
        #expect(written.allSatisfy { $0.topic == topology.topics.changelog.name && $0.partition == 2 && $0.value != nil })
        #expect(written.allSatisfy { $0.headers.contains(ChangelogRecord.versionHeader) })

        // Four more, not diffed yet (the partition is not due), then diffed: both entries and
        // the clock change again; nothing ended. A second diff has nothing to write.
        let second = worker.evaluate(records[5..<9].enumerated().map { ($0.offset, $0.element) }, diffing: [],
                                     now: t0 + .seconds(2))
        #expect(second.changes.isEmpty)
        #expect(worker.dirtyPartitions == [tp])
        let rewritten = try #require(worker.diff([tp])[tp])
        #expect(worker.diff([tp])[tp] == [] && worker.dirtyPartitions.isEmpty)
        keys = rewritten.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        #expect(Set(keys) == Set(written.map { String(decoding: $0.key ?? [], as: UTF8.self) }))
        #expect(rewritten.allSatisfy { $0.value != nil })

        // State rebuilt from the records alone (latest per key) fires on the tenth, as the
        // uninterrupted worker does, with the same ids.
        var snapshot = ChangelogRecord.Snapshot()
        for (i, r) in (written + rewritten).enumerated() {
            snapshot.apply(ConsumerRecord(topic: r.topic, partition: 2, offset: Int64(i), key: r.key, value: r.value, headers: r.headers))
        }
        let (states, unreadable) = snapshot.states(workers: 2)
        #expect(unreadable == 0)
        let restored = try #require(states[1])
        #expect(restored.state.entries.count == 2 && restored.state.eventTime != nil)
        let other = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        #expect(other.restore(tp, restored) == 0)
        let tenth = [(0, records[9])]
        let continued = Self.alerts(worker.evaluate(tenth, diffing: [tp], now: t0 + .seconds(4)))
        let fromChangelog = other.evaluate(tenth, diffing: [tp], now: t0 + .seconds(4))
        #expect(continued.count == 2)
        #expect(Self.alerts(fromChangelog).map(\.id) == continued.map(\.id))
        // Nothing changed that the restored worker had not written: only the fired windows and clock.
        let afterRestore = try #require(fromChangelog.changes[tp])
        #expect(afterRestore.allSatisfy { $0.value != nil })

        // Restored entries that did not change are not written again (another IP's event).
        let untouched = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        _ = untouched.restore(tp, restored)
        let otherIP = try #require(untouched.evaluate([(0, records[10])], diffing: [tp]).changes[tp])
        let otherKeys = otherIP.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        #expect(otherKeys.filter { $0.hasPrefix("e/") }.count == 2, "\(otherKeys)")
        #expect(otherKeys.allSatisfy { !$0.contains("176.95.188.101") } && otherKeys.contains("c/1"), "\(otherKeys)")

        // Two hours later (past the windows and the 30 minute dedup periods) the first IP's
        // entries have ended: tombstones, so compaction drops them.
        let later = worker.evaluate([(0, records[11])], diffing: [tp], now: t0 + .seconds(6))
        let ended = try #require(later.changes[tp])
        let endedKeys = Set(ended.filter { $0.value == nil }.map { String(decoding: $0.key ?? [], as: UTF8.self) })
        #expect(endedKeys.count == 2 && endedKeys.allSatisfy { $0.hasPrefix("e/1/") && $0.hasSuffix("176.95.188.101") },
                "\(endedKeys)")

        // An entry the changelog holds but the engine no longer does gets a tombstone.
        var stale = restored
        stale.written["e/1/4:gone/t/198.51.100.7"] = ChangelogRecord.Written(hash: 42, route: nil)
        let third = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        _ = third.restore(tp, stale)
        let cleaned = try #require(third.evaluate(tenth, diffing: [tp]).changes[tp])
        let tombstones = cleaned.filter { $0.value == nil }.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        #expect(tombstones == ["e/1/4:gone/t/198.51.100.7"])

        // A damaged record is counted, not restored, not fatal.
        var damaged = ChangelogRecord.Snapshot()
        damaged.apply(ConsumerRecord(topic: "c", partition: 2, offset: 0, key: Array("e/1/x".utf8), value: Array("{".utf8), headers: []))
        damaged.apply(ConsumerRecord(topic: "c", partition: 2, offset: 1, key: Array("m".utf8), value: Array("1".utf8), headers: []))
        #expect(damaged.states(workers: 2).unreadable == 1)
    }
}

extension ChangelogTests {
    @Test func changelogPartitionsMustEqualRepartitionPartitions() throws {
        let dir = try temporaryDirectory()
        let raw = IngestStageTests.Raw(topic: "u-eks", format: .eks, lines: [])
        let text = IngestStageTests.topology("127.0.0.1:9092", name: "u", raws: [raw])
            .replacingOccurrences(of: "changelog, partitions: 4}", with: "changelog, partitions: 2}")
        try write(text, to: dir + "/t.yaml")
        let outcome = TopologyLoader.check(file: dir + "/t.yaml")
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("changelog:") }) + 1
        #expect(outcome.problems.contains { $0.line == line && $0.detail.contains("must equal topics.repartition.partitions (4)") },
                "\(outcome.problems.map(\.message))")
    }
}

extension ChangelogTests {
    /// Repartition records of `lines` (raw EKS events) for partition 2, offsets from 0.
    static func records(_ lines: [String], _ topology: Topology) throws -> [ConsumerRecord] {
        let raw = IngestStageTests.Raw(topic: "u-eks", format: .eks, lines: [])
        let decoder = try raw.decoder(topology)
        return try lines.enumerated().map { i, line in
            let event = try #require(decoder.decode(line).compactMap(\.event).first)
            let r = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: raw.topic, partition: 0, offset: Int64(i)),
                                            topic: topology.topics.repartition.name)
            return ConsumerRecord(topic: r.topic, partition: 2, offset: Int64(i), key: r.key, value: r.value, headers: r.headers)
        }
    }

    /// Diffs of the engine's changed entries only: after every diff, the changelog folded to the
    /// latest value per key is exactly the state of an engine that saw the same events (threshold
    /// keys opening, firing, ending; dedup periods ending; IPs coming and going over hours).
    @Test func theChangelogFoldedAfterEachDiffIsTheEnginesWholeState() throws {
        let (topology, rules, _) = try Self.setup()
        let denials = try DetectStateTests.denials(0..<12)
        let ips = ["176.95.188.101", "81.2.69.160", "89.160.20.112", "2.125.160.216", "67.43.156.1"]
        var lines: [String] = []
        for hour in ["14", "15", "17"] {
            for (i, line) in denials.enumerated() {
                // At 15:45 one IP's twelve denials fire both threshold rules; otherwise IPs mix.
                let ip = hour == "15" ? ips[1] : ips[(i + hour.count * 2) % ips.count]
                lines.append(line.replacingOccurrences(of: "176.95.188.101", with: ip)
                    .replacingOccurrences(of: "2023-12-07T14:45", with: "2023-12-07T\(hour):45")
                    .replacingOccurrences(of: "denial-\(i)\"", with: "denial-\(hour)-\(i)\""))
            }
        }
        let records = try Self.records(lines, topology)
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let worker = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 0)
        var reference = DetectionEngine(rules: rules, settings: EngineSettings(
            allowedLateness: topology.limits.allowedLateness.components.seconds, maxKeysPerRule: topology.limits.maxKeysPerRule))
        let decoder = try RepartitionDecoder(options: DecoderOptions())
        var snapshot = ChangelogRecord.Snapshot()
        var tombstones = 0, diffs = 0
        let t0 = ContinuousClock.now
        for start in stride(from: 0, to: records.count, by: 5) {
            let batch = Array(records[start..<min(start + 5, records.count)])
            for record in batch {
                let e = try #require(decoder.decode(record).event)
                _ = reference.process(e.event, enrichment: e.enrichment, origin: .kafka(topic: e.origin.topic,
                    partition: e.origin.partition, offset: e.origin.offset))
            }
            // Batches 2 s of wall clock apart; in the first, within the first idle_advance (1 s),
            // the new partition's clock is held where it was (none yet).
            let changes = try #require(worker.evaluate(batch.enumerated().map { ($0.offset, $0.element) }, diffing: [tp],
                                                       now: t0 + .seconds(2 * diffs)).changes[tp])
            tombstones += changes.filter { $0.value == nil }.count
            for r in changes {
                snapshot.apply(ConsumerRecord(topic: r.topic, partition: 2, offset: 0, key: r.key, value: r.value, headers: r.headers))
            }
            let (states, unreadable) = snapshot.states(workers: 1)
            #expect(unreadable == 0)
            let folded = states[0]?.state ?? EngineState(eventTime: nil, entries: [])
            let whole = reference.exportState()
            #expect(folded.eventTime == (diffs == 0 ? nil : whole.eventTime), "diff \(diffs)")
            #expect(Dictionary(uniqueKeysWithValues: folded.entries.map { ($0.id, $0) })
                    == Dictionary(uniqueKeysWithValues: whole.entries.map { ($0.id, $0) }), "diff \(diffs)")
            diffs += 1
        }
        // Comparing the whole state with what was written finds nothing the changes missed.
        #expect(worker.diff([tp], whole: true)[tp] == [])
        #expect(tombstones > 0, "entries ended on the way")
        #expect(reference.statistics.rules.values.reduce(0) { $0 + $1.alerts } > 0, "windows fired on the way")
    }
}
