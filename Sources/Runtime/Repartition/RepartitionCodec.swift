import AuditEvents
import Enrichment
import KafkaIO

/// The repartition record: one normalized, enriched event on `vigil.events.by-key`.
///
/// - key: the event's primary source IP; for process events the container id; else none
///   (such events carry no per-key state and may land on any partition).
/// - value (version 2, written since issue 6 item 10): the compact binary encoding, no JSON
///   and no headers:
///
///   ```
///   magic       "VGR" 0x02                 4 bytes: the format and its version
///   arrival     byte 0/1, 8 bytes LE       the raw record's timestamp (ms), at a fixed place
///   origin      string topic, int partition, int offset, optionalInt index
///   enrichment  byte flags (1 geo), geo block, strings Tor exits, optionalString database
///               type, optionalInt build epoch, optionalInt Tor list time
///   event       AuditEvent.writeCompact: every model field, the raw document and the
///               envelope only when the rule set reads raw JSON paths of the event's log type
///   ```
///   (``CompactWriter`` documents the primitives.) The detect stage rebuilds the event,
///   its enrichment and origin without parsing JSON (``RepartitionDecoder``).
/// - timestamp: the event time (milliseconds).
///
/// Version 1 (``encodeVersion1(_:enrichment:origin:arrival:topic:)``) carried the raw JSON
/// document as the value and the rest in text headers; the detect stage still reads it, so
/// records in flight during a rolling upgrade are not dead-lettered.
public enum RepartitionCodec {
    public static let version = "2"
    /// The first bytes of a version-2 value.
    static let magic: [UInt8] = [0x56, 0x47, 0x52, 0x02]

    /// Version 1's headers (all text).
    enum Header {
        static let version = "vigil-repartition"
        static let logType = "vigil-log-type"
        static let time = "vigil-time"
        static let cluster = "vigil-cluster"
        static let sourceTopic = "vigil-source-topic"
        static let sourcePartition = "vigil-source-partition"
        static let sourceOffset = "vigil-source-offset"
        static let sourceIndex = "vigil-source-index"
        /// The raw record's timestamp (milliseconds): the event's arrival, for the alert latency.
        static let sourceTime = "vigil-source-time"
        static let geo = "vigil-geo"
        static let geoDatabase = "vigil-geo-db"
        static let geoEpoch = "vigil-geo-epoch"
        static let torExits = "vigil-tor-exits"
        static let torTime = "vigil-tor-time"
    }

    /// The partitioning key of an event: its primary source IP, or a process event's container id.
    public static func key(for event: AuditEvent) -> String? {
        if event.logType == .ecsProcess, let container = event.process?.containerID, !container.isEmpty {
            return container
        }
        return event.sourceIP ?? event.process?.containerID
    }

    /// The record to produce for one decoded, enriched event; `arrival` is the raw record's
    /// timestamp (milliseconds), from which the detect stage measures alert latency.
    /// `documents`: carry the raw document (and envelope) for rules that read raw JSON paths.
    public static func encode(_ event: AuditEvent, enrichment: EventEnrichment, origin: RawOrigin,
                              arrival: Int64? = nil, documents: Bool = false, topic: String) -> ProducerRecord {
        var w = CompactWriter(capacity: capacity(event, documents: documents))
        writeVersion2(event, enrichment: enrichment, origin: origin, arrival: arrival, documents: documents, into: &w)
        return ProducerRecord(topic: topic, key: key(for: event).map { Array($0.utf8) }, value: w.bytes,
                              timestampMilliseconds: event.time?.milliseconds)
    }

    /// About the bytes an event's version-2 value takes.
    static func capacity(_ event: AuditEvent, documents: Bool) -> Int {
        documents ? 512 + event.raw.bytes.count + (event.envelope?.bytes.count ?? 0) : 384
    }

    /// A version-2 value (magic included): what ``encode(_:enrichment:origin:arrival:documents:topic:)``
    /// produces alone and a frame holds per event.
    static func writeVersion2(_ event: AuditEvent, enrichment: EventEnrichment, origin: RawOrigin, arrival: Int64?,
                              documents: Bool, into w: inout CompactWriter) {
        w.raw(magic)
        w.byte(arrival == nil ? 0 : 1)
        w.fixed64(UInt64(bitPattern: arrival ?? 0))
        w.string(origin.topic)
        w.int(Int64(origin.partition))
        w.int(origin.offset)
        w.optionalInt(origin.index.map(Int64.init))
        w.byte(enrichment.geo == nil ? 0 : 1)
        if let g = enrichment.geo { w.block { write(g, into: &$0) } }
        w.strings(enrichment.torExitIPs)
        w.optionalString(enrichment.geoDatabaseType)
        w.optionalInt(enrichment.geoBuildEpoch.map { Int64(bitPattern: $0) })
        w.optionalInt(enrichment.torListTime)
        event.writeCompact(into: &w, documents: documents)
    }

    /// A location's fields, in ``GeoLocation``'s order.
    static func write(_ g: GeoLocation, into w: inout CompactWriter) {
        w.optionalString(g.city)
        w.optionalString(g.country)
        w.optionalString(g.countryCode)
        w.optionalString(g.region)
        w.optionalString(g.regionCode)
        w.optionalString(g.continent)
        w.optionalString(g.continentCode)
        w.optionalString(g.postalCode)
        w.optionalString(g.timeZone)
        w.optionalDouble(g.latitude)
        w.optionalDouble(g.longitude)
        w.optionalInt(g.accuracyRadius.map(Int64.init))
        w.optionalInt(g.metroCode.map(Int64.init))
    }

    /// The record version 1 of the format made (the raw JSON document as the value, the rest
    /// in text headers): what ingest wrote before version 2. Kept so the rolling upgrade
    /// (version-1 records still in flight) is tested and `vigil bench` can compare.
    public static func encodeVersion1(_ event: AuditEvent, enrichment: EventEnrichment, origin: RawOrigin,
                                      arrival: Int64? = nil, topic: String) -> ProducerRecord {
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(15)
        func add(_ key: String, _ value: String?) {
            if let value { headers.append(KafkaHeader(key: key, string: value)) }
        }
        add(Header.version, "1")
        add(Header.logType, event.logType.rawValue)
        origin.appendHeaders(to: &headers)
        add(Header.sourceTime, arrival.map { String($0) })
        add(Header.time, event.time.map { "\($0.seconds).\($0.nanoseconds)" })
        add(Header.cluster, event.cluster)
        add(Header.geo, enrichment.geo.map(geoJSON))
        add(Header.geoDatabase, enrichment.geoDatabaseType)
        add(Header.geoEpoch, enrichment.geoBuildEpoch.map { String($0) })
        add(Header.torExits, enrichment.torExitIPs.isEmpty ? nil : enrichment.torExitIPs.joined(separator: ","))
        add(Header.torTime, enrichment.torListTime.map { String($0) })
        let document = event.envelope?.bytes ?? event.raw.bytes
        return ProducerRecord(topic: topic, key: key(for: event).map { Array($0.utf8) }, value: document,
                              headers: headers, timestampMilliseconds: event.time?.milliseconds)
    }

    /// Whether a value is version 2 (starts with the magic bytes).
    static func isVersion2(_ value: [UInt8]?) -> Bool {
        guard let value else { return false }
        return value.withUnsafeBufferPointer { isVersion2($0) }
    }

    static func isVersion2(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard value.count >= magic.count else { return false }
        return value[0] == magic[0] && value[1] == magic[1] && value[2] == magic[2] && value[3] == magic[3]
    }

    /// The raw record's timestamp a repartition record carries (milliseconds), if any: read at
    /// its fixed place in a version-2 value (`entry`: the frame entry's), from the header in version 1.
    public static func arrival(of record: ConsumerRecord, entry: RepartitionFrame.Entry? = nil) -> Int64? {
        if let value = record.value, entry != nil || isVersion2(value) {
            return value.withUnsafeBufferPointer { buffer in
                arrival(ofVersion2: entry.map { UnsafeBufferPointer(rebasing: buffer[$0.body]) } ?? buffer)
            }
        }
        return record.header(Header.sourceTime).flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
    }

    private static func arrival(ofVersion2 value: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard value.count >= 13, value[4] == 1 else { return nil }
        var ms: UInt64 = 0
        for i in 0..<8 { ms |= UInt64(value[5 + i]) << (8 * UInt64(i)) }
        return Int64(bitPattern: ms)
    }

    static func geoJSON(_ g: GeoLocation) -> String {
        var w = JSONWriter()
        w.beginObject()
        func put(_ key: String, _ value: String?) {
            if let value { w.key(key); w.string(value) }
        }
        func put(_ key: String, _ value: Int?) {
            if let value { w.key(key); w.int(Int64(value)) }
        }
        func put(_ key: String, _ value: Double?) {
            if let value, value.isFinite { w.key(key); w.value(.double(value)) }
        }
        put("city", g.city)
        put("country", g.country)
        put("country_code", g.countryCode)
        put("region", g.region)
        put("region_code", g.regionCode)
        put("continent", g.continent)
        put("continent_code", g.continentCode)
        put("postal_code", g.postalCode)
        put("time_zone", g.timeZone)
        put("lat", g.latitude)
        put("lon", g.longitude)
        put("accuracy_radius", g.accuracyRadius)
        put("metro_code", g.metroCode)
        w.endObject()
        return w.text
    }
}
