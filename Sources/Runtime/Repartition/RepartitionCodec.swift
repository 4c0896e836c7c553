import AuditEvents
import Enrichment
import KafkaIO

/// The repartition record: one normalized, enriched event on `vigil.events.by-key`.
///
/// - key: the event's primary source IP; for process events the container id; else none
///   (such events carry no per-key state and may land on any partition).
/// - value: the JSON document the event was decoded from, unchanged: the audit Event, the
///   Cloud Audit Log entry, the ECS document, or for AKS the whole diagnostic record (its
///   `resourceId` names the cluster). The detect stage decodes it again with the decoder of
///   the log type, so rules see exactly what ingest saw, and can extract their own raw fields.
/// - headers (all text): `vigil-repartition` (format version, `1`), `vigil-log-type`,
///   `vigil-time` (`seconds.nanoseconds`, when the event has a time), `vigil-cluster`,
///   `vigil-source-topic` / `-partition` / `-offset` / `-index` (the raw record),
///   `vigil-source-time` (the raw record's timestamp, milliseconds: its arrival),
///   `vigil-geo` (the location as a JSON object), `vigil-geo-db`, `vigil-geo-epoch`,
///   `vigil-tor-exits` (comma-separated), `vigil-tor-time`.
///
/// What decoding does not reproduce from the document alone travels in headers: the cluster
/// (an EKS topic's configured label, a CloudWatch log group), the time (CloudWatch's entry
/// timestamp), and the enrichment, which is computed once, at ingest.
public enum RepartitionCodec {
    public static let version = "1"

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
    public static func encode(_ event: AuditEvent, enrichment: EventEnrichment, origin: RawOrigin,
                              arrival: Int64? = nil, topic: String) -> ProducerRecord {
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(15)
        func add(_ key: String, _ value: String?) {
            if let value { headers.append(KafkaHeader(key: key, string: value)) }
        }
        add(Header.version, version)
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

    /// The raw record's timestamp a repartition record carries (milliseconds), if any.
    static func arrival(of record: ConsumerRecord) -> Int64? {
        record.header(Header.sourceTime).flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
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
