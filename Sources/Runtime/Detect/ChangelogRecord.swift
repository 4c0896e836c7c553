import Detection
import Foundation
import KafkaIO

/// The detect stage's records on the compacted changelog topic. Repartition partition p's
/// state lives in changelog partition p, one record per state entry (the latest value per key
/// is the state; an ended entry is a tombstone, so compaction drops it):
///
/// | key | value |
/// |---|---|
/// | `e/<worker>/<rule id length>:<rule id>/t/<group key>` | ``Entry``: a threshold / dedup key's state |
/// | `e/<worker>/<rule id length>:<rule id>/a<window start>/<group key>` | ``Entry``: one aggregate group of one window |
/// | `c/<worker>` | ``Clock``: the engine's event time (its watermark) |
/// | `m` | a restore marker (ignored): written by a new owner to find the partition's end |
///
/// Values are JSON; every record carries the header `vigil-changelog: 1`.
enum ChangelogRecord {
    static let versionHeader = KafkaHeader(key: "vigil-changelog", string: "1")
    static let markerKey = "m"

    struct Entry: Codable, Hashable {
        var worker: Int
        var entry: RuleStateEntry
        /// The rule's state shape when written (``RuleStateShape/fingerprint``): a restore skips
        /// entries of a rule whose shape changed since. Absent in records written before it was.
        var shape: String?
        /// The routing hash (``DetectProcessor/route(_:_:)``) of the repartition record that made
        /// the entry: a restore gives the entry to worker `route % N`, where that key's records
        /// go under the worker count N of the restoring stage. Absent in records written before
        /// entries carried it (they go to worker `worker % N`, right only for an unchanged N).
        var route: UInt64?
    }

    /// A worker's event-time clock and how far its state has applied the input. Written last
    /// in each of the worker's diffs, so it also closes the diff: a restore takes the worker's
    /// entries only up to its last clock (a diff cut short by a crash is not taken half).
    struct Clock: Codable, Hashable {
        var worker: Int
        var eventTime: Int64?
        /// The stage's worker count when written: the progress below is per worker, so after a
        /// change of the count a restore takes the lowest of the old workers'. Absent (like
        /// `applied` and `sources`) in records written before the state was idempotent.
        var workers: Int?
        /// The highest repartition offset of this partition the worker's state has applied
        /// (-1: none): a record read again at or below it is skipped.
        var applied: Int64?
        /// Per raw partition (`topic/partition`), the highest raw position (offset, index) the
        /// worker's state has applied from it: a copy of a raw event that ingest produced again
        /// (a crash after producing, before committing) is skipped.
        var sources: [String: RawPosition]?
        /// After a change of the worker count: the progress of the workers before it, which the
        /// restored state holds for the keys each of them had (``Legacy``). Written until passed.
        var legacy: Legacy?

        /// A clock written with the progress fields (a diff closed by it).
        var closesDiffs: Bool { applied != nil }
    }

    /// The progress of the workers of another worker count (`workers`), per old worker (index
    /// = its number), carried by each worker of the new count: the restored state holds a
    /// record of key k at or below `applied[route(k) % workers]` (and a raw event at or below
    /// that worker's position of its raw partition), since the entries of k's old worker moved
    /// to the worker k's records now go to. So after a worker-count change a record is skipped
    /// exactly when its own old worker had applied it (the lowest of the old workers' progress,
    /// which every worker also takes, alone would count again what lies between).
    struct Legacy: Codable, Hashable, Sendable {
        var workers: Int
        var applied: [Int64]
        var sources: [[String: RawPosition]]

        /// Whether the old worker of a record with this route applied it.
        func holds(_ position: RawPosition, from source: RawPartition, offset: Int64, route: UInt64) -> Bool {
            let old = Int(route % UInt64(workers))
            guard old < applied.count else { return false }
            if offset <= applied[old] { return true }
            guard let seen = sources[old][source.key] else { return false }
            return position <= seen
        }

        /// A gap notice at `offset`: the old workers that had not read it yet lower their position.
        mutating func reopen(_ source: RawPartition, below: RawPosition, offset: Int64) {
            for old in applied.indices where offset > applied[old] {
                if let seen = sources[old][source.key], seen > below { sources[old][source.key] = below }
            }
        }

        /// Drops what no longer decides anything: offsets at or below `passed` (a worker sees its
        /// records in offset order) and positions at or below the worker's own; nil once empty.
        func pruned(passed: Int64, own: [RawPartition: RawPosition]) -> Legacy? {
            var out = self
            var mine: [String: RawPosition] = [:]
            for (source, position) in own { mine[source.key] = position }
            for old in out.applied.indices {
                if out.applied[old] <= passed { out.applied[old] = -1 }
                out.sources[old] = out.sources[old].filter { key, position in mine[key].map { position > $0 } ?? true }
            }
            return out.applied.allSatisfy { $0 < 0 } && out.sources.allSatisfy(\.isEmpty) ? nil : out
        }
    }

    /// Where an event stands in its raw partition: the raw offset and the index among the
    /// record's events (-1 for a record of one event). Encoded as `[offset, index]`.
    struct RawPosition: Codable, Hashable, Comparable, Sendable {
        var offset: Int64
        var index: Int

        init(offset: Int64, index: Int) {
            self.offset = offset
            self.index = index
        }

        init(_ origin: RawOrigin) {
            self.init(offset: origin.offset, index: origin.index ?? -1)
        }

        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            offset = try c.decode(Int64.self)
            index = try c.decode(Int.self)
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(offset)
            try c.encode(index)
        }

        static func < (a: RawPosition, b: RawPosition) -> Bool { (a.offset, a.index) < (b.offset, b.index) }
    }

    /// A raw partition as a `sources` key: `topic/partition` (topic names have no `/`).
    static func sourceKey(topic: String, partition: Int32) -> String { "\(topic)/\(partition)" }

    static func key(worker: Int, _ id: RuleStateEntry.ID) -> String {
        let kind = id.windowStart.map { "a\($0)" } ?? "t"
        return "e/\(worker)/\(id.ruleID.utf8.count):\(id.ruleID)/\(kind)/\(id.key)"
    }

    static func clockKey(worker: Int) -> String { "c/\(worker)" }

    static func record(topic: String, partition: Int32, key: String, value: [UInt8]?) -> ProducerRecord {
        var record = ProducerRecord(topic: topic, key: Array(key.utf8), value: value, headers: [versionHeader])
        record.partition = partition
        return record
    }

    /// A partition's changelog read back: the latest value per key (tombstones remove), taking
    /// a worker's entry records only once a later clock record of the same worker closed their
    /// diff (``Clock``). Entries after a worker's last clock are its diff in progress: taken
    /// when that clock is of a writer that did not close its diffs (records written before the
    /// state was idempotent), dropped otherwise (a crash cut the diff short; the state and the
    /// progress it claims must go together).
    struct Snapshot: Sendable {
        /// Closed state: latest value per key.
        var values: [String: [UInt8]] = [:]
        /// Per worker (the number in the key), its entry records since its last clock, in order.
        var open: [Int: [(key: String, value: [UInt8]?)]] = [:]
        var records = 0

        mutating func apply(_ record: ConsumerRecord) {
            records += 1
            let key = String(decoding: record.key ?? [], as: UTF8.self)
            if key.hasPrefix("e/"), let worker = Self.worker(in: key) {
                open[worker, default: []].append((key, record.value))
                return
            }
            if key.hasPrefix("c/"), let worker = Self.worker(in: key), let entries = open.removeValue(forKey: worker) {
                for (k, v) in entries { values[k] = v }
            }
            if let value = record.value { values[key] = value } else { values[key] = nil }
        }

        /// The worker number after the key's two-character prefix (`e/3/...`, `c/3`).
        static func worker(in key: String) -> Int? {
            let rest = key.utf8.dropFirst(2)
            let digits = rest.prefix { $0 != UInt8(ascii: "/") }
            guard !digits.isEmpty, digits.count < 10 else { return nil }
            return Int(String(decoding: digits, as: UTF8.self))
        }

        /// The state per worker, with the keys and value hashes as written (so the next diff
        /// starts from them), each worker's progress (``Clock/applied``, ``Clock/sources``), and
        /// how many records could not be read (counted, skipped).
        ///
        /// Under another worker count than the clocks were written under, an entry goes to
        /// worker `route % workers`, where its key's records go (an entry without a route,
        /// written before entries had one: to worker `w % workers`, w its old worker); its key stays with worker `w % workers`, which writes the tombstone once the
        /// entry moved. Two entries of one rule and group key meeting in a worker (a rule grouping
        /// by something else than the record key): the one under that worker's own key wins (it
        /// was written after the other), else the last read.
        func states(workers: Int) -> (states: [Int: Restored], unreadable: Int) {
            var out: [Int: Restored] = [:]
            var unreadable = 0
            let decoder = JSONDecoder()
            var clocks: [Int: Clock] = [:]
            var values = self.values
            for (key, value) in values where key.hasPrefix("c/") {
                if let c = try? decoder.decode(Clock.self, from: Data(value)), c.worker >= 0 {
                    clocks[c.worker] = c
                } else {
                    values[key] = nil
                    unreadable += 1
                }
            }
            // Open diffs: taken from writers that did not close them, dropped otherwise. A dropped
            // record is still the log's latest for its key: the next diff must replace it.
            var dropped: [String: [UInt8]?] = [:]
            for (worker, entries) in open {
                if clocks[worker]?.closesDiffs == true {
                    for (k, v) in entries { dropped[k] = v }
                } else {
                    for (k, v) in entries { values[k] = v }
                }
            }
            // Written under another worker count: a key's records now reach another worker.
            let recount = clocks.values.contains { $0.worker >= workers || ($0.workers.map { $0 != workers } ?? false) }
            var taken: [Int: [RuleStateEntry.ID: (entry: Entry, own: Bool)]] = [:]
            for (key, value) in values {
                if key == markerKey || key.hasPrefix("c/") { continue }
                guard key.hasPrefix("e/"), let e = try? decoder.decode(Entry.self, from: Data(value)), e.worker >= 0 else {
                    unreadable += 1
                    continue
                }
                // Under the count it was written under an entry stays with its worker (where its
                // route leads too).
                let to = recount ? e.route.map { Int($0 % UInt64(workers)) } ?? e.worker % workers : e.worker
                out[e.worker % workers, default: Restored()].written[key] = Written(hash: e.hashValue, route: e.route)
                if e.route == nil && recount { out[to, default: Restored()].unrouted += 1 }
                let own = e.worker == to
                if let had = taken[to]?[e.entry.id], had.own && !own { continue }
                taken[to, default: [:]][e.entry.id] = (e, own)
            }
            for (to, entries) in taken {
                var r = out[to, default: Restored()]
                for (id, e) in entries {
                    r.state.entries.append(e.entry.entry)
                    if let shape = e.entry.shape { r.shapes[id] = shape }
                    r.routes[id] = e.entry.route
                }
                out[to] = r
            }
            // Event time: each worker its own clock's; after a count change the latest of all
            // (a worker now holds keys of every old worker).
            let latest = clocks.values.compactMap(\.eventTime).max()
            for c in clocks.values {
                var r = out[c.worker % workers, default: Restored()]
                if !recount, let time = c.eventTime { r.state.eventTime = max(r.state.eventTime ?? time, time) }
                r.written[Self.clockKey(c.worker)] = Written(hash: c.hashValue, route: nil)
                out[c.worker % workers] = r
            }
            if recount, let latest {
                for w in 0..<workers { out[w, default: Restored()].state.eventTime = latest }
            }
            for (key, value) in dropped {
                guard let worker = Self.worker(in: key) else { continue }
                var r = out[worker % workers, default: Restored()]
                r.written[key] = value == nil ? nil : Written(hash: Restored.rewrite, route: r.written[key]?.route)
                r.dropped += 1
                out[worker % workers] = r
            }
            Self.progress(clocks, workers: workers, into: &out)
            return (out, unreadable)
        }

        static func clockKey(_ worker: Int) -> String { ChangelogRecord.clockKey(worker: worker) }

        /// Each worker's progress from its clock when the worker count is the one they were
        /// written under; after a change of the count (a key's records now reach another
        /// worker), every worker gets the lowest of the old workers' (a raw partition only
        /// when every old worker had it): records it skips were applied by some old worker;
        /// and, when the old clocks agree on their count, each old worker's own (``Legacy``),
        /// so a record its key's old worker applied is skipped too. (The old clocks' own legacy,
        /// from an earlier count change not yet passed, is not carried: what it held may count
        /// again, never be skipped unapplied.)
        private static func progress(_ clocks: [Int: Clock], workers: Int, into out: inout [Int: Restored]) {
            let closing = clocks.values.filter(\.closesDiffs)
            guard !closing.isEmpty else { return }
            if closing.allSatisfy({ $0.workers == workers && $0.worker < workers }) {
                for c in closing {
                    out[c.worker, default: Restored()].applied = c.applied
                    out[c.worker, default: Restored()].sources = Self.sources(c.sources ?? [:])
                    out[c.worker, default: Restored()].legacy = c.legacy
                }
                return
            }
            guard closing.count == clocks.count else { return }
            let applied = closing.compactMap(\.applied).min()
            var sources = closing[0].sources ?? [:]
            for c in closing.dropFirst() {
                let theirs = c.sources ?? [:]
                var both: [String: RawPosition] = [:]
                for (k, v) in sources { if let t = theirs[k] { both[k] = min(v, t) } }
                sources = both
            }
            var legacy: Legacy?
            if let old = closing[0].workers, old > 0, closing.allSatisfy({ $0.workers == old && $0.worker < old }) {
                var l = Legacy(workers: old, applied: Array(repeating: -1, count: old), sources: Array(repeating: [:], count: old))
                for c in closing {
                    l.applied[c.worker] = c.applied ?? -1
                    l.sources[c.worker] = c.sources ?? [:]
                }
                legacy = l
            }
            for w in 0..<workers {
                out[w, default: Restored()].applied = applied
                out[w, default: Restored()].sources = Self.sources(sources)
                out[w, default: Restored()].legacy = legacy
            }
        }

        static func sources(_ written: [String: RawPosition]) -> [RawPartition: RawPosition] {
            var out: [RawPartition: RawPosition] = [:]
            for (key, position) in written {
                guard let slash = key.lastIndex(of: "/"), let partition = Int32(key[key.index(after: slash)...]) else { continue }
                out[RawPartition(topic: String(key[..<slash]), partition: partition)] = position
            }
            return out
        }
    }

    /// A raw topic's partition (the worker's progress per raw partition).
    struct RawPartition: Hashable, Sendable {
        var topic: String
        var partition: Int32

        var key: String { ChangelogRecord.sourceKey(topic: topic, partition: partition) }
    }

    /// What a worker wrote (or restored) under a changelog key: the hash of the value (the
    /// ``Entry`` / ``Clock``, not its bytes) and, for an entry, its route (nil: not known).
    struct Written: Hashable, Sendable {
        var hash: Int
        var route: UInt64?
    }

    /// One worker's share of a restored partition.
    struct Restored {
        var state = EngineState(eventTime: nil, entries: [])
        var written: [String: Written] = [:]
        /// The rule state shape each entry was written under (when its record says).
        var shapes: [RuleStateEntry.ID: String] = [:]
        /// The route of each entry (when its record says): written again with it.
        var routes: [RuleStateEntry.ID: UInt64] = [:]
        /// Entries without a route restored under another worker count than they were written
        /// under: placed by their old worker's number, maybe not where their key's records go.
        var unrouted = 0
        /// The old workers' progress after a worker-count change (``Legacy``).
        var legacy: Legacy?
        /// The progress the state has (``Clock/applied``, ``Clock/sources``); nil / empty when
        /// the records do not say (written before the state was idempotent).
        var applied: Int64?
        var sources: [RawPartition: RawPosition] = [:]
        /// Entry records of a diff a crash cut short: not taken (the restore is inexact: the
        /// next diff compares the whole state with what was written).
        var dropped = 0
        /// The `written` hash of a dropped record's key: equal to no value's, so the next diff
        /// writes the key again.
        static let rewrite = Int.min

        /// Takes out the entries written under another shape of their rule than `current`
        /// gives (rule id → fingerprint); returns how many.
        mutating func dropChangedShapes(_ current: [String: String]) -> Int {
            let before = state.entries.count
            state.entries.removeAll { entry in
                guard let written = shapes[entry.id], let now = current[entry.ruleID] else { return false }
                return written != now
            }
            return before - state.entries.count
        }
    }
}

extension ChangelogRecord.Legacy {
    /// Read back from the changelog, where another version or a damaged record may have put
    /// anything: one offset and one position map per old worker, or the clock is unreadable
    /// (``ChangelogRecord/Snapshot/states(workers:)`` counts it; its worker then restores
    /// without progress and counts its records again instead of skipping them).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let workers = try c.decode(Int.self, forKey: .workers)
        let applied = try c.decode([Int64].self, forKey: .applied)
        let sources = try c.decode([[String: ChangelogRecord.RawPosition]].self, forKey: .sources)
        guard workers > 0, applied.count == workers, sources.count == workers else {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: c.codingPath,
                debugDescription: "legacy progress of \(workers) workers with \(applied.count) offsets and \(sources.count) position maps"))
        }
        self.init(workers: workers, applied: applied, sources: sources)
    }
}
