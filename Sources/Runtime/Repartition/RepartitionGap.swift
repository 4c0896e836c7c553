import KafkaIO

/// A gap notice on the repartition topic: events of one raw partition from `offset` on may be
/// missing from this repartition partition, so copies of them that come later are not copies.
///
/// Written by an ingest attempt that ends on a failed delivery, to every repartition
/// partition, before it leaves the group: librdkafka fails a record after the delivery timeout
/// while later records to the same partition may still land (a gap); the raw records are read
/// again from the committed offset and their events produced again, and without the notice the
/// detect stage would take the re-produced events below ones delivered after the gap for copies
/// (Runtime README, "Idempotent state"). `offset` is the raw partition's first record not yet
/// done (everything before it was acknowledged whole).
struct RepartitionGap: Sendable, Hashable {
    /// The first header of a notice (and only of a notice).
    static let header = "vigil-repartition-gap"

    var source: ChangelogRecord.RawPartition
    var offset: Int64

    init(source: ChangelogRecord.RawPartition, offset: Int64) {
        self.source = source
        self.offset = offset
    }

    /// The notice a record carries; nil for any other record.
    init?(_ record: ConsumerRecord) {
        guard Self.isNotice(record) else { return nil }
        var topic: String?, partition: Int32?, offset: Int64?
        for header in record.headers {
            guard let value = header.value else { continue }
            let text = String(decoding: value, as: UTF8.self)
            switch header.key {
            case RepartitionCodec.Header.sourceTopic: topic = text
            case RepartitionCodec.Header.sourcePartition: partition = Int32(text)
            case RepartitionCodec.Header.sourceOffset: offset = Int64(text)
            default: break
            }
        }
        // A raw offset is never negative (and one position below it must be representable).
        guard let topic, let partition, let offset, offset >= 0 else { return nil }
        self.init(source: ChangelogRecord.RawPartition(topic: topic, partition: partition), offset: offset)
    }

    /// Whether the record is a notice (its first header says so: one comparison per record).
    static func isNotice(_ record: ConsumerRecord) -> Bool {
        record.headers.first?.key == header
    }

    /// The notice for repartition partition `partition` of `topic`.
    func record(topic: String, partition: Int32) -> ProducerRecord {
        var record = ProducerRecord(topic: topic, key: nil as [UInt8]?, value: [], headers: [
            KafkaHeader(key: Self.header, string: "1"),
            KafkaHeader(key: RepartitionCodec.Header.sourceTopic, string: source.topic),
            KafkaHeader(key: RepartitionCodec.Header.sourcePartition, string: String(source.partition)),
            KafkaHeader(key: RepartitionCodec.Header.sourceOffset, string: String(offset)),
        ])
        record.partition = partition
        return record
    }
}
