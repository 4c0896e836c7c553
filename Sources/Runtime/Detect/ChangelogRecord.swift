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
    }

    struct Clock: Codable, Hashable {
        var worker: Int
        var eventTime: Int64?
    }

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

    /// A partition's changelog read back: the latest value per key (tombstones remove).
    struct Snapshot: Sendable {
        var values: [String: [UInt8]] = [:]
        var records = 0

        mutating func apply(_ record: ConsumerRecord) {
            records += 1
            let key = String(decoding: record.key ?? [], as: UTF8.self)
            if let value = record.value { values[key] = value } else { values[key] = nil }
        }

        /// The state per worker (entries of worker w go to worker w modulo `workers`), with
        /// the keys and value hashes as written (so the next diff starts from them), and how
        /// many records could not be read (counted, skipped).
        func states(workers: Int) -> (states: [Int: Restored], unreadable: Int) {
            var out: [Int: Restored] = [:]
            var unreadable = 0
            let decoder = JSONDecoder()
            for (key, value) in values {
                if key == markerKey { continue }
                if key.hasPrefix("e/"), let e = try? decoder.decode(Entry.self, from: Data(value)), e.worker >= 0 {
                    out[e.worker % workers, default: Restored()].state.entries.append(e.entry)
                    out[e.worker % workers, default: Restored()].written[key] = e.hashValue
                    if let shape = e.shape { out[e.worker % workers, default: Restored()].shapes[e.entry.id] = shape }
                } else if key.hasPrefix("c/"), let c = try? decoder.decode(Clock.self, from: Data(value)), c.worker >= 0 {
                    var r = out[c.worker % workers, default: Restored()]
                    if let time = c.eventTime { r.state.eventTime = max(r.state.eventTime ?? time, time) }
                    r.written[key] = c.hashValue
                    out[c.worker % workers] = r
                } else {
                    unreadable += 1
                }
            }
            return (out, unreadable)
        }
    }

    /// One worker's share of a restored partition.
    struct Restored {
        var state = EngineState(eventTime: nil, entries: [])
        var written: [String: Int] = [:]
        /// The rule state shape each entry was written under (when its record says).
        var shapes: [RuleStateEntry.ID: String] = [:]

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
