import AuditEvents
import Enrichment
import KafkaIO

/// A repartition record carrying several events (version 3): the events one ingest batch sends
/// to one repartition partition, in their order. Per record the producer, the broker and the
/// detect stage's consumer pay their per-message costs (enqueue, delivery report, fetch
/// parsing, copy, offset tracking: ~25–30 % of `vigil run`'s CPU with one event per record,
/// ops/bench/e2e.md); a frame divides them by its events.
///
/// ```
/// magic   "VGR" 0x03                    4 bytes
/// entry*  key     varint 0 (none) or length + 1, the key's bytes
///         event   block: a version-2 value, magic included (``RepartitionCodec``)
/// ```
/// Entries run to the end of the value. The record has no key; ingest picks its partition
/// as the producer's partitioner would for each event's key (``KafkaPartitioner``), so a key's
/// events reach the same partition whether they travel alone (version 2) or framed. A key's
/// events stay in order: a partition has one open frame at a time and frames are produced in
/// the order they were opened.
public struct RepartitionFrame: Sendable {
    /// The first bytes of a version-3 value.
    static let magic: [UInt8] = [0x56, 0x47, 0x52, 0x03]

    /// One event's place in a frame's value: its key's bytes (nil: none) and its version-2 value.
    public struct Entry: Sendable, Hashable {
        public var key: Range<Int>?
        public var body: Range<Int>
    }

    public let partition: Int32
    public private(set) var count = 0
    /// The event time of the first event (the record's timestamp).
    private var timestamp: Int64?
    private var writer: CompactWriter

    public init(partition: Int32, capacity: Int = 4_096) {
        self.partition = partition
        writer = CompactWriter(capacity: capacity)
        writer.raw(Self.magic)
    }

    /// The bytes a frame grows to at most (unless one event alone is larger, which then goes
    /// alone): the producer refuses records over librdkafka's `message.max.bytes`.
    public static let maxBytes = 256 * 1024

    /// A frame with room for `events` events without documents (~400 bytes each; at most
    /// ``maxBytes``) from the start: grown from 4 KB, a frame of 64 copied its bytes three times.
    public init(partition: Int32, events: Int) {
        self.init(partition: partition, capacity: min(max(events, 1) * 512, Self.maxBytes))
    }

    /// Bytes written so far.
    public var byteCount: Int { writer.count }

    /// Appends one event (as ``RepartitionCodec/encode(_:enrichment:origin:arrival:documents:topic:)`` would
    /// write it alone); `key`: its ``RepartitionCodec/key(for:)``, when the caller has it already.
    public mutating func append(_ event: AuditEvent, enrichment: EventEnrichment, origin: RawOrigin,
                                arrival: Int64?, documents: Bool, key: String?? = nil) {
        if var key = key ?? RepartitionCodec.key(for: event) {
            key.withUTF8 { writer.prefixed(UInt64($0.count) + 1, $0) }
        } else {
            writer.varint(0)
        }
        writer.block {
            RepartitionCodec.writeVersion2(event, enrichment: enrichment, origin: origin, arrival: arrival,
                                           documents: documents, into: &$0)
        }
        if count == 0 { timestamp = event.time?.milliseconds }
        count += 1
    }

    /// The record to produce (to this frame's partition).
    public func record(topic: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: nil, value: writer.bytes, partition: partition,
                       timestampMilliseconds: timestamp)
    }

    /// Whether a value is a frame (starts with the version-3 magic bytes).
    public static func isFrame(_ value: [UInt8]?) -> Bool {
        guard let value, value.count >= magic.count else { return false }
        return value[0] == magic[0] && value[1] == magic[1] && value[2] == magic[2] && value[3] == magic[3]
    }

    /// The entries of a frame's value, in order; nil when the value is not a well-formed frame
    /// (damaged lengths, an entry that is not a version-2 value, no entry at all).
    public static func entries(_ value: [UInt8]) -> [Entry]? {
        guard isFrame(value) else { return nil }
        return value.withUnsafeBufferPointer { buffer -> [Entry]? in
            guard let base = buffer.baseAddress else { return nil }
            var r = CompactReader(buffer, position: magic.count)
            var out: [Entry] = []
            while !r.atEnd {
                let tag = r.varint()
                var key: Range<Int>?
                if tag > 0 {
                    let bytes = r.take(Int(clamping: tag - 1))
                    guard !r.failed, let start = bytes.baseAddress else { return nil }
                    key = (start - base)..<(start - base + bytes.count)
                }
                let body = r.block()
                guard !r.failed, let start = body.baseAddress,
                      RepartitionCodec.isVersion2(UnsafeBufferPointer(rebasing: body[...])) else { return nil }
                out.append(Entry(key: key, body: (start - base)..<(start - base + body.count)))
            }
            return out.isEmpty ? nil : out
        }
    }
}
