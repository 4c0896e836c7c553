import AuditEvents
import Detection
import Foundation
import KafkaIO
import KafkaIOTesting
@testable import Runtime
import Testing

/// What a detect worker's state says it holds (the clock's progress) and the records it then
/// skips; diffs cut short by a crash; changelogs written before the progress existed.
@Suite struct ChangelogProgressTests {
    static func positions(_ records: ArraySlice<ConsumerRecord>) -> [(Int, ConsumerRecord)] {
        records.enumerated().map { ($0.offset, $0.element) }
    }

    /// The records' raw events again at new repartition offsets (ingest produced them twice).
    static func producedAgain(_ records: ArraySlice<ConsumerRecord>, from offset: Int64) -> [ConsumerRecord] {
        records.enumerated().map { i, r in
            ConsumerRecord(topic: r.topic, partition: r.partition, offset: offset + Int64(i), key: r.key, value: r.value,
                           headers: r.headers)
        }
    }

    static func snapshot(_ records: [ProducerRecord]) -> ChangelogRecord.Snapshot {
        var snapshot = ChangelogRecord.Snapshot()
        for (i, r) in records.enumerated() {
            snapshot.apply(ConsumerRecord(topic: r.topic, partition: r.partition ?? 0, offset: Int64(i), key: r.key,
                                          value: r.value, headers: r.headers))
        }
        return snapshot
    }

    @Test func aRestoredWorkerSkipsWhatItsStateHoldsAndCountsTheRestOnce() throws {
        let (topology, rules, records) = try ChangelogTests.setup()
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let worker = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        let written = try #require(worker.evaluate(Self.positions(records[0..<9]), diffing: [tp]).changes[tp])
        let clock = try #require(written.last)
        #expect(clock.key == Array("c/1".utf8), "the clock closes the diff")
        let progress = try JSONDecoder().decode(ChangelogRecord.Clock.self, from: Data(clock.value ?? []))
        #expect(progress.applied == 8 && progress.workers == 2)
        #expect(progress.sources == ["u-eks/0": ChangelogRecord.RawPosition(offset: 8, index: -1)])

        // In the same worker: the nine raw events produced again are skipped.
        let shared = DetectShared()
        let again = try DetectWorker(topology: topology, rules: rules, shared: shared, index: 1)
        let restored = try #require(Self.snapshot(written).states(workers: 2).states[1])
        #expect(restored.applied == 8 && restored.dropped == 0)
        #expect(again.restore(tp, restored) == 0)
        // Read again (offsets 3...8: the committed offset was behind the state), then produced
        // again by ingest (offsets 20...28): nothing is counted, nothing changes.
        let replay = Self.positions(records[3..<9]) + Self.positions(Self.producedAgain(records[0..<9], from: 20)[...])
        let replayed = again.evaluate(replay, diffing: [tp])
        #expect(ChangelogTests.alerts(replayed).isEmpty)
        #expect(shared.statistics.duplicates == 15 && shared.statistics.records == 15)
        #expect(replayed.changes[tp] == [], "nothing changed: \(replayed.changes)")
        // The tenth fires as in the uninterrupted worker, with the same ids.
        let tenth = ChangelogTests.alerts(again.evaluate([(0, records[9])], diffing: [tp]))
        let uninterrupted = ChangelogTests.alerts(worker.evaluate([(0, records[9])], diffing: [tp]))
        #expect(tenth.count == 2 && tenth.map(\.id) == uninterrupted.map(\.id))

        // Without a restore too: the worker that counted them skips the copies.
        let copies = worker.evaluate(Self.positions(Self.producedAgain(records[0..<10], from: 40)[...]), diffing: [])
        #expect(ChangelogTests.alerts(copies).isEmpty)
        let eleventh = ChangelogTests.alerts(worker.evaluate([(0, records[10])], diffing: []))
        #expect(eleventh.isEmpty, "another IP's first denial")
    }

    /// After a gap notice (an ingest attempt ended on a failed delivery: events from raw offset 5
    /// on may be missing here), the events produced again from 5 on are applied; those before
    /// 5 are still copies.
    @Test func aGapNoticeMakesTheEventsProducedAgainAfterItCount() throws {
        let (topology, rules, records) = try ChangelogTests.setup()
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let shared = DetectShared()
        let worker = try DetectWorker(topology: topology, rules: rules, shared: shared, index: 1)
        // Raw 0...4 and 8 delivered; 5...7 failed (the gap).
        let delivered = Array(records[0..<5]) + [records[8]]
        _ = worker.evaluate(delivered.enumerated().map { ($0.offset, $0.element) }, diffing: [tp])
        let gap = RepartitionGap(source: ChangelogRecord.RawPartition(topic: "u-eks", partition: 0), offset: 5)
        let notice = gap.record(topic: tp.topic, partition: 2)
        let noticeRecord = ConsumerRecord(topic: tp.topic, partition: 2, offset: 6, key: notice.key, value: notice.value,
                                          headers: notice.headers)
        #expect(RepartitionGap(noticeRecord) == gap && !RepartitionGap.isNotice(records[0]))
        // A notice with an impossible offset (another version, a damaged record) is none: the
        // position below it did not exist, and working it out trapped.
        var damaged = noticeRecord
        damaged.headers = damaged.headers.map { h in
            h.key == RepartitionCodec.Header.sourceOffset ? KafkaHeader(key: h.key, value: Array("\(Int64.min)".utf8)) : h
        }
        #expect(RepartitionGap.isNotice(damaged) && RepartitionGap(damaged) == nil)
        _ = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
            .evaluate([(0, damaged)], diffing: [tp])
        // The next attempt produces raw 3...9 again (3 and 4 are copies).
        let again = [noticeRecord] + Self.producedAgain(records[3..<10], from: 7)
        let outcome = worker.evaluate(again.enumerated().map { ($0.offset, $0.element) }, diffing: [tp])
        #expect(shared.statistics.duplicates == 2, "raw 3 and 4: \(shared.statistics)")
        // The threshold fires (raw 5...7 counted; raw 8 twice: it came after the gap, the cost of a notice).
        #expect(ChangelogTests.alerts(outcome).count == 2)
        let clock = try #require(outcome.changes[tp]?.last)
        let progress = try JSONDecoder().decode(ChangelogRecord.Clock.self, from: Data(clock.value ?? []))
        #expect(progress.sources == ["u-eks/0": ChangelogRecord.RawPosition(offset: 9, index: -1)])
    }

    /// A diff whose records a crash cut short (its clock never written) is not taken half: the
    /// state and progress are the previous diff's, and the next diff writes the cut keys again.
    @Test func aDiffCutShortIsNotRestored() throws {
        let (topology, rules, records) = try ChangelogTests.setup()
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let worker = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        let first = try #require(worker.evaluate(Self.positions(records[0..<5]), diffing: [tp]).changes[tp])
        let second = try #require(worker.evaluate(Self.positions(records[5..<9]), diffing: [tp]).changes[tp])
        #expect(second.count == 3 && second.last?.key == Array("c/1".utf8), "two entries and the clock")
        let cut = Self.snapshot(first + second.dropLast()).states(workers: 2)
        let restored = try #require(cut.states[1])
        #expect(cut.unreadable == 0)
        #expect(restored.applied == 4 && restored.dropped == 2)
        let whole = Self.snapshot(first).states(workers: 2).states[1]
        #expect(Set(restored.state.entries) == Set(whole?.state.entries ?? []) && restored.state.eventTime == whole?.state.eventTime,
                "the first diff's state")

        // Restored from the cut log, the worker counts 5...8 again (read again from the
        // committed offset): the tenth fires as the uninterrupted worker's does.
        let again = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        #expect(again.restore(tp, restored) == 0)
        let caught = again.evaluate(Self.positions(records[5..<10]), diffing: [tp])
        let uninterrupted = ChangelogTests.alerts(worker.evaluate([(0, records[9])], diffing: [tp]))
        #expect(ChangelogTests.alerts(caught).map(\.id) == uninterrupted.map(\.id) && uninterrupted.count == 2)
        // Its diff rewrites the keys whose cut records the log holds, so the log's latest values
        // are its state.
        let rewritten = Set(try #require(caught.changes[tp]).map { String(decoding: $0.key ?? [], as: UTF8.self) })
        let cutKeys = Set(second.dropLast().map { String(decoding: $0.key ?? [], as: UTF8.self) })
        #expect(cutKeys.isSubset(of: rewritten), "\(rewritten)")
    }

    /// Records written before the progress existed (clocks without it, written only when they
    /// moved, so a diff's entries may follow the last clock) restore as they did; nothing is skipped.
    @Test func aChangelogWithoutProgressStillRestores() throws {
        let (topology, rules, records) = try ChangelogTests.setup()
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let worker = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        let written = try #require(worker.evaluate(Self.positions(records[0..<9]), diffing: [tp]).changes[tp])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // The old writer: the clock first (as an earlier diff left it), then this diff's entries.
        let oldClock = ChangelogRecord.record(topic: topology.topics.changelog.name, partition: 2, key: "c/1",
                                              value: Array(try encoder.encode(["worker": 1, "eventTime": 1_701_960_300_000_000_000] as [String: Int64])))
        let entries = written.filter { $0.key != Array("c/1".utf8) }
        #expect(entries.count == 2)
        let old = Self.snapshot([oldClock] + entries).states(workers: 2)
        let restored = try #require(old.states[1])
        #expect(old.unreadable == 0 && restored.dropped == 0)
        #expect(restored.state.entries.count == 2 && restored.applied == nil && restored.sources.isEmpty)
        let again = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        #expect(again.restore(tp, restored) == 0)
        let tenth = ChangelogTests.alerts(again.evaluate([(0, records[9])], diffing: [tp]))
        #expect(tenth.count == 2)
    }

    /// After a change of the worker count each worker takes the lowest of the old workers'
    /// progress (a key's records may now reach another worker).
    @Test func anotherWorkerCountTakesTheLowestProgress() throws {
        let (topology, _, _) = try ChangelogTests.setup()
        let encoder = JSONEncoder()
        func clock(_ worker: Int, applied: Int64, _ sources: [String: ChangelogRecord.RawPosition]) throws -> ProducerRecord {
            let c = ChangelogRecord.Clock(worker: worker, eventTime: 1, workers: 3, applied: applied, sources: sources)
            return ChangelogRecord.record(topic: topology.topics.changelog.name, partition: 2, key: "c/\(worker)",
                                          value: Array(try encoder.encode(c)))
        }
        let log = [try clock(0, applied: 40, ["a/0": .init(offset: 9, index: -1), "a/1": .init(offset: 3, index: 2)]),
                   try clock(1, applied: 25, ["a/0": .init(offset: 12, index: -1), "a/1": .init(offset: 3, index: 1)]),
                   try clock(2, applied: 31, ["a/0": .init(offset: 7, index: -1)])]
        let same = Self.snapshot(log).states(workers: 3).states
        #expect(same[1]?.applied == 25 && same[2]?.sources.count == 1)
        let fewer = Self.snapshot(log).states(workers: 2).states
        for w in 0..<2 {
            #expect(fewer[w]?.applied == 25)
            #expect(fewer[w]?.sources == [ChangelogRecord.RawPartition(topic: "a", partition: 0): .init(offset: 7, index: -1)])
        }
    }

    /// A clock whose legacy progress does not hold one offset and one position map per old
    /// worker (another version, a damaged record) is unreadable, not a crash at every restore.
    @Test func aClockWithBrokenLegacyProgressIsUnreadable() throws {
        let (topology, _, _) = try ChangelogTests.setup()
        let encoder = JSONEncoder()
        func clock(_ legacy: ChangelogRecord.Legacy) throws -> ProducerRecord {
            let c = ChangelogRecord.Clock(worker: 0, eventTime: 1, workers: 2, applied: 5, sources: [:], legacy: legacy)
            return ChangelogRecord.record(topic: topology.topics.changelog.name, partition: 2, key: "c/0",
                                          value: Array(try encoder.encode(c)))
        }
        let good = try clock(.init(workers: 2, applied: [3, 4], sources: [[:], [:]]))
        let read = Self.snapshot([good]).states(workers: 2)
        #expect(read.unreadable == 0 && read.states[0]?.legacy?.applied == [3, 4])
        for broken in [ChangelogRecord.Legacy(workers: 0, applied: [], sources: []),
                       .init(workers: -3, applied: [1], sources: [[:]]),
                       .init(workers: 2, applied: [1, 2], sources: [[:]]),
                       .init(workers: 2, applied: [1], sources: [[:], [:]])] {
            let restored = Self.snapshot([try clock(broken)]).states(workers: 2)
            #expect(restored.unreadable == 1 && restored.states[0]?.legacy == nil, "\(broken)")
        }
    }
}
