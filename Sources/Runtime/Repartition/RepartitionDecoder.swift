import AuditEvents
import Enrichment
import KafkaIO

/// One repartitioned event, rebuilt: the event as ingest decoded it, its enrichment and
/// the raw record it came from.
public struct RepartitionedEvent: Sendable {
    public var event: AuditEvent
    public var enrichment: EventEnrichment
    public var origin: RawOrigin
}

/// What became of one repartition record: the event, or why it could not be rebuilt
/// (a record not written by ``RepartitionCodec``, or a document that no longer decodes).
public enum RepartitionOutcome: Sendable {
    case event(RepartitionedEvent)
    case issue(DecodeIssue)

    public var event: RepartitionedEvent? {
        if case .event(let e) = self { return e }
        return nil
    }

    public var issue: DecodeIssue? {
        if case .issue(let i) = self { return i }
        return nil
    }
}

/// Rebuilds events from repartition records (``RepartitionCodec``): a version-2 record from
/// its compact encoding (no JSON parsed; repeated parts, strings and locations shared through
/// caches), a version-1 record by one decode of the carried document with the decoder of its
/// log type, plus the headers.
///
/// - Important: not thread-safe (it owns decoders and caches); one per worker.
public final class RepartitionDecoder {
    private let decoders: [LogType: AuditRecordDecoder]
    private let compact = CompactEventDecoder()
    /// Locations by their encoded bytes: the events of an IP share one `GeoLocation`.
    private let locations = CompactCache<GeoLocation>(slots: 4096)
    /// Recently seen `vigil-geo` headers (version 1): one location object shared by the events of an IP.
    private var geoMemo: [[UInt8]: GeoLocation] = [:]
    private let geoMemoCapacity = 4096
    private var outcomes: [DecodeOutcome] = []

    /// `options` are the detect side's (limits, raw fields the rules extract); the cluster
    /// label is not used (the record carries the cluster).
    public init(options: DecoderOptions = DecoderOptions()) throws(RuntimeError) {
        var options = options
        options.clusterLabel = nil
        options.keepRaw = true
        var decoders: [LogType: AuditRecordDecoder] = [:]
        for type in LogType.allCases {
            do {
                decoders[type] = try AuditRecordDecoder(format: type.sourceFormat, options: options)
            } catch {
                throw RuntimeError(code: .invalidTopology, detail: "decoder for \(type.rawValue): \(error)")
            }
        }
        self.decoders = decoders
    }

    /// The event a repartition record carries, or why it cannot be rebuilt. A frame (version 3)
    /// carries several: see ``decode(_:entry:)``; given whole here, it is an issue.
    public func decode(_ record: ConsumerRecord) -> RepartitionOutcome {
        if let value = record.value, RepartitionCodec.isVersion2(value) {
            return value.withUnsafeBufferPointer { decodeVersion2($0) }
        }
        if RepartitionFrame.isFrame(record.value) {
            return .issue(DecodeIssue(.corruptRecord, "repartition frame (version 3): damaged, its events cannot be told apart"))
        }
        return decodeVersion1(record)
    }

    /// Every event a repartition record carries: a frame's each, in order; else the one.
    public func decodeAll(_ record: ConsumerRecord) -> [RepartitionOutcome] {
        if let value = record.value, let entries = RepartitionFrame.entries(value) {  // nil unless a frame
            return entries.map { decode(record, entry: $0) }
        }
        return [decode(record)]
    }

    /// The event of one entry of a frame (``RepartitionFrame/entries(_:)`` of `record`'s value).
    public func decode(_ record: ConsumerRecord, entry: RepartitionFrame.Entry) -> RepartitionOutcome {
        guard let value = record.value, entry.body.lowerBound >= 0, entry.body.upperBound <= value.count else {
            return .issue(DecodeIssue(.corruptRecord, "repartition frame (version 3): entry outside the record"))
        }
        return value.withUnsafeBufferPointer { decodeVersion2(UnsafeBufferPointer(rebasing: $0[entry.body])) }
    }

    private func decodeVersion2(_ value: UnsafeBufferPointer<UInt8>) -> RepartitionOutcome {
        func corrupt(_ detail: String) -> RepartitionOutcome {
            .issue(DecodeIssue(.corruptRecord, "repartition record (version 2): \(detail)"))
        }
        var r = compact.reader(value, position: RepartitionCodec.magic.count + 9)
        let topic = r.string()
        let partition = r.int()
        let offset = r.int()
        let index = r.optionalInt()
        guard !r.failed, let partition = Int32(exactly: partition),
              index.map({ Int(exactly: $0) != nil && $0 >= 0 }) ?? true else {
            return corrupt("origin damaged")
        }
        var enrichment = EventEnrichment()
        switch r.byte() {
        case 0: break
        case 1:
            let block = r.block()
            guard !r.failed, let g = locations.value(block, make: { Self.location(r.reader(of: block)) }) else {
                return corrupt("location damaged")
            }
            enrichment.geo = g
        default: return corrupt("enrichment flags damaged")
        }
        enrichment.torExitIPs = r.strings()
        enrichment.geoDatabaseType = r.optionalString()
        enrichment.geoBuildEpoch = r.optionalInt().map { UInt64(bitPattern: $0) }
        enrichment.torListTime = r.optionalInt()
        guard !r.failed else { return corrupt("enrichment damaged") }
        switch compact.readEvent(&r) {
        case .deadLetter(var issue), .skipped(var issue):
            issue.detail = "repartition record (version 2): " + issue.detail
            return .issue(issue)
        case .decoded(let event):
            guard r.atEnd else { return corrupt("\(value.count - r.position) bytes after the event") }
            let origin = RawOrigin(topic: topic, partition: partition, offset: offset, index: index.map { Int($0) })
            return .event(RepartitionedEvent(event: event, enrichment: enrichment, origin: origin))
        }
    }

    /// A location written by ``RepartitionCodec/write(_:into:)``; nil when damaged.
    private static func location(_ reader: CompactReader) -> GeoLocation? {
        var r = reader
        let city = r.optionalString(), country = r.optionalString(), countryCode = r.optionalString()
        let region = r.optionalString(), regionCode = r.optionalString(), continent = r.optionalString()
        let continentCode = r.optionalString(), postalCode = r.optionalString(), timeZone = r.optionalString()
        let latitude = r.optionalDouble(), longitude = r.optionalDouble()
        let accuracy = r.optionalInt(), metro = r.optionalInt()
        guard r.atEnd else { return nil }
        func int(_ v: Int64?) -> Int? { v.flatMap { Int(exactly: $0) } }
        return GeoLocation(city: city, country: country, countryCode: countryCode, region: region,
                           regionCode: regionCode, continent: continent, continentCode: continentCode,
                           postalCode: postalCode, timeZone: timeZone, latitude: latitude, longitude: longitude,
                           accuracyRadius: int(accuracy), metroCode: int(metro))
    }

    /// A version-1 record: the document decoded again, the rest from the headers.
    private func decodeVersion1(_ record: ConsumerRecord) -> RepartitionOutcome {
        var logType: LogType?
        var time: EventTime?
        var cluster: String?
        var topic: String?, partition: Int32?, offset: Int64?, index: Int?
        var enrichment = EventEnrichment()
        for header in record.headers {
            guard let value = header.value else { continue }
            switch header.key {
            case RepartitionCodec.Header.logType: logType = LogType(rawValue: String(decoding: value, as: UTF8.self))
            case RepartitionCodec.Header.time: time = Self.time(value)
            case RepartitionCodec.Header.cluster: cluster = String(decoding: value, as: UTF8.self)
            case RepartitionCodec.Header.sourceTopic: topic = String(decoding: value, as: UTF8.self)
            case RepartitionCodec.Header.sourcePartition: partition = Int32(String(decoding: value, as: UTF8.self))
            case RepartitionCodec.Header.sourceOffset: offset = Int64(String(decoding: value, as: UTF8.self))
            case RepartitionCodec.Header.sourceIndex: index = Int(String(decoding: value, as: UTF8.self))
            case RepartitionCodec.Header.geo: enrichment.geo = geo(value)
            case RepartitionCodec.Header.geoDatabase: enrichment.geoDatabaseType = String(decoding: value, as: UTF8.self)
            case RepartitionCodec.Header.geoEpoch: enrichment.geoBuildEpoch = UInt64(String(decoding: value, as: UTF8.self))
            case RepartitionCodec.Header.torExits:
                enrichment.torExitIPs = String(decoding: value, as: UTF8.self).split(separator: ",").map(String.init)
            case RepartitionCodec.Header.torTime: enrichment.torListTime = Int64(String(decoding: value, as: UTF8.self))
            default: break
            }
        }
        guard let logType, let decoder = decoders[logType] else {
            return .issue(DecodeIssue(.missingField, "repartition record without a known vigil-log-type header"))
        }
        guard let document = record.value else {
            return .issue(DecodeIssue(.emptyRecord, "repartition record without a value"))
        }
        outcomes.removeAll(keepingCapacity: true)
        decoder.decode(document, into: &outcomes)
        guard outcomes.count == 1, var event = outcomes[0].event else {
            let issue = outcomes.first?.issue ?? DecodeIssue(.unrecognizedFormat, "no event in repartition record")
            return .issue(outcomes.count == 1 ? issue
                            : DecodeIssue(.unrecognizedFormat, "repartition record holds \(outcomes.count) outcomes"))
        }
        if let cluster { event.cluster = cluster }
        if event.time == nil, let time {
            // CloudWatch's entry timestamp stood in for a missing or invalid event time.
            event.time = time
            event.warnings.remove(.missingTime)
            event.warnings.remove(.invalidTime)
        }
        let origin = RawOrigin(topic: topic ?? record.topic, partition: partition ?? record.partition,
                               offset: offset ?? record.offset, index: index)
        return .event(RepartitionedEvent(event: event, enrichment: enrichment, origin: origin))
    }

    static func time(_ value: [UInt8]) -> EventTime? {
        let text = String(decoding: value, as: UTF8.self)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let s = Int64(parts[0]), let n = Int32(parts[1]), (0..<1_000_000_000).contains(n) else {
            return nil
        }
        return EventTime(seconds: s, nanoseconds: n)
    }

    private func geo(_ value: [UInt8]) -> GeoLocation? {
        if let known = geoMemo[value] { return known }
        guard let doc = RawJSON(value).document, case .object = doc else { return nil }
        func string(_ key: String) -> String? { doc[key]?.stringValue }
        func int(_ key: String) -> Int? { doc[key]?.intValue.map { Int($0) } }
        func double(_ key: String) -> Double? {
            switch doc[key] {
            case .double(let d)?: return d
            case .int(let i)?: return Double(i)
            default: return nil
            }
        }
        let location = GeoLocation(
            city: string("city"), country: string("country"), countryCode: string("country_code"),
            region: string("region"), regionCode: string("region_code"), continent: string("continent"),
            continentCode: string("continent_code"), postalCode: string("postal_code"),
            timeZone: string("time_zone"), latitude: double("lat"), longitude: double("lon"),
            accuracyRadius: int("accuracy_radius"), metroCode: int("metro_code"))
        if geoMemo.count >= geoMemoCapacity { geoMemo.removeAll(keepingCapacity: true) }
        geoMemo[value] = location
        return location
    }
}
