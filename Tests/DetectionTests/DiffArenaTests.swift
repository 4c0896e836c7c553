import AuditEvents
import Enrichment
import Foundation
import Testing
@testable import Detection

/// A threshold store's diffs of fired alerts (``DiffArena``): packed across pages, read
/// back as written, and not kept once their windows ended.
@Suite struct DiffArenaTests {
    typealias F = EngineFixtures

    /// Entries of 0 to 700 bytes (one- and two-byte length prefixes; most of 40 to 90, a
    /// fired key's) over several pages come back as written, in place and copied into another arena.
    @Test func entriesComeBackAsWrittenAcrossPages() throws {
        var arena = DiffArena()
        var entries: [(handle: UInt32, bytes: [UInt8])] = []
        for i in 0..<4000 {
            let size = i % 10 == 0 ? i * 37 % 701 : 40 + i % 51
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            let handle = arena.add(bytes)
            entries.append((try #require(handle), bytes))
        }
        #expect(arena.written > 3 * DiffArena.pageSize)
        #expect(Set(entries.map(\.handle)).count == entries.count)
        #expect(!entries.contains { $0.handle == 0 })
        var copy = DiffArena()
        for entry in entries {
            #expect(arena.read(entry.handle) { Array($0) } == entry.bytes)
            #expect(arena.size(of: entry.handle) == entry.bytes.count + (entry.bytes.count < 128 ? 1 : 2))
            let copied = arena.copy(entry.handle, into: &copy)
            let moved = try #require(copied)
            #expect(copy.read(moved) { Array($0) } == entry.bytes)
        }
        #expect(copy.written == arena.written)
        // At most a page of room unused, at the end: pages fill up to 64 KiB, not past.
        #expect(arena.capacity <= arena.written + DiffArena.pageSize)
        #expect(arena.capacity <= (arena.written / DiffArena.pageSize + 1) * (DiffArena.pageSize + 16))
        #expect(arena.add([UInt8](repeating: 1, count: DiffArena.pageSize)) == nil)
    }

    /// The sizes a tracked key's bytes follow from (README, "Memory and state").
    @Test func layouts() {
        #expect(MemoryLayout<ThresholdWindow>.size == 56, "\(MemoryLayout<ThresholdWindow>.size)")
        #expect(MemoryLayout<MatchList>.size == 23, "\(MemoryLayout<MatchList>.size)")  // the tag in the spare bits of its file flag
        #expect(MemoryLayout<ThresholdWindow.Raised?>.size == 8, "\(MemoryLayout<ThresholdWindow.Raised?>.size)")
        // Two words (the pending matches, the fired windows) beside the key's 16 bytes: no hash in the slot.
        #expect(MemoryLayout<ThresholdKeyState?>.size == 16, "\(MemoryLayout<ThresholdKeyState?>.size)")
        #expect(MemoryLayout<GroupTable<ThresholdKeyState>.Slot>.stride == 32,
                "\(MemoryLayout<GroupTable<ThresholdKeyState>.Slot>.stride)")
        #expect(MemoryLayout<FiredWindows>.size == 8, "\(MemoryLayout<FiredWindows>.size)")
    }

    /// A paged array of 8-byte elements (the summary heap's window ends) holds at most a
    /// page of room it does not use, growing and shrinking (`removeLast`) across pages.
    @Test func pagedArraysKeepLittleRoomUnused() {
        var ends = PagedArray<Int64>()
        let n = PagedArray<Int64>.pageSize * 3 + 17
        for i in 0..<n {
            ends.append(Int64(i))
            #expect(ends.capacity <= (i / PagedArray<Int64>.pageSize + 1) * (PagedArray<Int64>.pageSize + 8))
        }
        #expect(Array(ends) == (0..<Int64(n)).map { $0 })
        for _ in 0..<(PagedArray<Int64>.pageSize + 20) { ends.removeLast() }
        #expect(Array(ends) == (0..<Int64(n - PagedArray<Int64>.pageSize - 20)).map { $0 })
        ends.append(-1)
        #expect(ends.last == -1 && ends.count == n - PagedArray<Int64>.pageSize - 19)
    }

    /// Keys that come and go, batch after batch, each with a user name of its own: the
    /// diffs of windows that ended are dropped at sweeps (the arena stays within a few
    /// periods' worth), and every summary — some of windows whose diffs were moved —
    /// is its alert's.
    @Test func diffsOfEndedWindowsAreDroppedAtSweeps() throws {
        let rule = try F.rule(id: "Test.Dedup.Arena", where: "response.code >= 400", dedupMinutes: 60)
        var engine = DetectionEngine(rules: [rule], settings: EngineSettings(allowedLateness: 0))
        let template = F.event(at: 0)
        let perBatch = 800, batches = 10
        var raised: [String: Alert] = [:]
        var summaries: [Alert] = []
        var written: [Int] = []
        for batch in 0..<batches {
            for second in [0.0, 2] {
                for k in 0..<perBatch {
                    let n = batch * perBatch + k
                    let scrambled = UInt64(n + 1) &* 0x9E37_79B9_7F4A_7C15
                    var event = template
                    event.sourceIPs = ["10.\(n / 65536).\(n / 256 % 256).\(n % 256)"]
                    event.user.name = [scrambled, scrambled.byteSwapped, scrambled ^ 0x5555_5555_5555_5555,
                                       scrambled &* 3, scrambled.byteSwapped &* 5]
                        .map { String($0, radix: 36) }.joined()
                    event.time = EventTime(nanos: F.t0.nanos + Int64(batch) * 1_500_000_000_000
                                           + Int64(second * 1e9) + Int64(k) * 1_000_000)
                    for alert in engine.process(event, enrichment: .none,
                                                origin: .file(path: "events.jsonl", line: n + 1)) {
                        if alert.kind == .alert { raised[alert.id] = alert } else { summaries.append(alert) }
                    }
                }
            }
            written.append(engine.evaluators[0].threshold!.interned.diffs.written)
        }
        summaries += engine.finish()
        #expect(raised.count == perBatch * batches)
        #expect(summaries.count == perBatch * batches)
        for summary in summaries {
            let alert = try #require(raised[summary.id])
            #expect(summary.json == F.summary(of: alert, count: 2, like: summary).json)
        }
        // A batch every 25 minutes, windows of 60, a sweep once an hour: the sweeps at
        // batches 6 and 9 find at most a third of the bytes live and copy them (~2 batches'
        // worth). Without that the arena would hold all 10 batches' diffs at the end.
        let batchBytes = written[0]
        #expect(batchBytes > DiffArena.pageSize / 2)
        #expect(written.max()! <= 7 * batchBytes, "\(written)")
        #expect(written.last! <= 6 * batchBytes, "\(written)")
    }
}
