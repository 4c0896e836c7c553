#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// AKS: Azure Monitor diagnostic records (`category` kube-audit or
/// kube-audit-admin, `properties.log` an audit Event as a JSON string or an
/// object), alone or in an Event Hubs `{"records": [...]}` batch.
extension AuditRecordDecoder {
    /// An Event Hubs batch (`record` is its JSON, the outer parser's input).
    /// Each element's envelope is its own bytes, sliced out of the batch.
    func decodeAzureBatch(_ root: JSONNode, record: [UInt8], into outcomes: inout [DecodeOutcome]) {
        guard let records = root.field("records"), records.kind == .array else {
            outcomes.append(.deadLetter(DecodeIssue(.wrongType, "records is not an array")))
            return
        }
        records.withElements { elements in
            // Where each element is in the batch: one walk for all of them
            // (re-serialized instead when that walk fails).
            let ranges = options.keepRaw ? record.withUnsafeBytes { outer.byteRanges(of: elements, in: $0) } : nil
            for (position, value) in elements.enumerated() {
                let element = JSONNode(value: value)
                guard element.kind == .object else {
                    outcomes.append(.deadLetter(DecodeIssue(
                        .notAnObject, "records[\(position)] is not an object", position: position)))
                    continue
                }
                let source = RecordSource(input: ranges == nil ? nil : record, range: ranges?[position])
                outcomes.append(decodeAzureRecord(element, source: source, position: position))
            }
            if elements.isEmpty {
                outcomes.append(.skipped(DecodeIssue(.emptyBatch, "Event Hubs batch with no records")))
            }
        }
    }

    /// Where a diagnostic record's own JSON is: all of `input` (the outer
    /// parser's input) when the record was the whole Kafka record, `range` of
    /// it for a batch element; unknown (nil input) when the record must be
    /// re-serialized.
    struct RecordSource {
        var input: [UInt8]?
        var range: Range<Int>?

        /// The record's bytes: the input itself (shared) when the record is
        /// all of it, a copy of its range, or the record re-serialized.
        func bytes(of record: JSONNode) -> [UInt8] {
            guard let input else { return record.serialized() }
            guard let range, range != input.indices else { return input }
            return Array(input[range])
        }
    }

    /// The members of a diagnostic record the decoder reads.
    struct AzureRecordFields {
        var category: JSONNode?
        var log: JSONNode?
        var resourceId: JSONNode?
        var pSourceLabel: JSONNode?
        var time: JSONNode?
    }

    enum RecordKey: Int { case category, properties, resourceId, pSourceLabel, time, log }
    static let recordTree = PickTree([
        ("category", nil), ("properties", nil), ("resourceId", nil), ("p_source_label", nil), ("time", nil),
        ("log", RecordKey.properties.rawValue),
    ])

    /// One diagnostic record, whose own JSON is at `source`.
    func decodeAzureRecord(_ record: JSONNode, source: RecordSource, position: Int?) -> DecodeOutcome {
        let picked = pickScratch.begin(record, statics.recordTree)
        defer { pickScratch.end(picked) }
        let f = picked.fields
        let fields = AzureRecordFields(
            category: f[RecordKey.category], log: f[RecordKey.log], resourceId: f[RecordKey.resourceId],
            pSourceLabel: f[RecordKey.pSourceLabel], time: f[RecordKey.time])
        return decodeAzureRecord(record, fields, source: source, position: position)
    }

    func decodeAzureRecord(
        _ record: JSONNode, _ f: AzureRecordFields, source: RecordSource, position: Int?
    ) -> DecodeOutcome {
        let category: AzureCategory = f.category.map { c in
            c.stringEquals("kube-audit") || c.stringEquals("kube-audit-admin")
                ? .kubeAudit : .other { c.string ?? JSONValue(c).jsonText }
        } ?? .none
        if let outcome = azureGate(category, hasLog: f.log != nil, position: position) { return outcome }
        guard let log = f.log else { preconditionFailure("azureGate lets no record without a log through") }
        let envelopeBytes = options.keepRaw ? source.bytes(of: record) : nil
        let raw: RawJSON
        let document: JSONNode
        switch log.kind {
        case .object:
            document = log
            // The object as written in the record (re-serialized when it cannot be found there).
            raw = rawJSON(source.input.flatMap { input -> [UInt8]? in
                let range = withUnsafePointer(to: log.value) { one in
                    input.withUnsafeBytes { outer.byteRanges(of: UnsafeBufferPointer(start: one, count: 1), in: $0) }
                }?.first
                return range.map { Array(input[$0]) }
            } ?? log.serialized())
        case .string:
            guard let bytes = log.stringBytes else {
                return .deadLetter(DecodeIssue(.wrongType, "\(Self.place(position))properties.log unreadable", position: position))
            }
            switch embeddedEvent(inner.parse(embedded: log), position: position) {
            case .issue(let issue): return .deadLetter(issue)
            case .event(let inner):
                document = inner
                raw = rawJSON(Array(bytes))
            }
        default:
            return .deadLetter(DecodeIssue(
                .wrongType, "\(Self.place(position))properties.log is a JSON \(log.kind), not a string or object",
                position: position))
        }
        return azureEvent(
            document, raw: raw, envelopeBytes: envelopeBytes, envelope: record,
            resourceID: f.resourceId?.stringBytes,
            label: { FieldReader.string(f.pSourceLabel, &$0, strings) }, time: { FieldReader.time(f.time, &$0) })
    }

    /// A diagnostic record that the parser read without building its document
    /// (``AzureRecords``; the whole Kafka record, or the element `position` of its
    /// batch): the same outcome as ``decodeAzureRecord(_:source:position:)``.
    func decodeAzureRecord(_ r: AzureRecordSpans, record: [UInt8], position: Int?) -> DecodeOutcome {
        let category: AzureCategory = r.category.map { c in
            c.elementsEqual("kube-audit".utf8) || c.elementsEqual("kube-audit-admin".utf8)
                ? .kubeAudit : .other { String(decoding: c, as: UTF8.self) }
        } ?? .none
        if let outcome = azureGate(category, hasLog: r.log != nil, position: position) { return outcome }
        guard let log = r.log else { preconditionFailure("azureGate lets no record without a log through") }
        switch embeddedEvent(inner.parse(padded: log), position: position) {
        case .issue(let issue): return .deadLetter(issue)
        case .event(let document):
            let envelopeBytes = options.keepRaw ? (position == nil ? record : Array(record[r.range])) : nil
            return azureEvent(
                document, raw: rawJSON(Array(log)), envelopeBytes: envelopeBytes, envelope: nil,
                resourceID: r.resourceID,
                label: { _ in r.pSourceLabel.map { FieldReader.string($0, strings) } },
                time: { w in r.time.flatMap { FieldReader.time($0, &w) } })
        }
    }

    /// A record's category, for ``azureGate(_:hasLog:position:)``.
    enum AzureCategory {
        case none
        case kubeAudit
        /// Another category, and its name for the skip.
        case other(() -> String)
    }

    /// What a record's category and whether it has a log make of it before the log
    /// is read: a skip (another category; neither), a dead letter (no log), or nil
    /// to decode it.
    func azureGate(_ category: AzureCategory, hasLog: Bool, position: Int?) -> DecodeOutcome? {
        switch category {
        case .other(let name):
            return .skipped(DecodeIssue(.notKubernetesCategory, "category \(name())", position: position))
        case .none where !hasLog:
            return .skipped(DecodeIssue(
                .notKubernetesCategory, "record has no category and no properties.log", position: position))
        default:
            return hasLog ? nil : .deadLetter(DecodeIssue(
                .missingField, "\(Self.place(position))properties.log is missing", position: position))
        }
    }

    /// How messages name a batch element (`records[N].`); nothing for a record alone.
    static func place(_ position: Int?) -> String { position.map { "records[\($0)]." } ?? "" }

    /// The audit Event parsed from a `properties.log` string, or why it is not one.
    private enum EmbeddedEvent {
        case event(JSONNode)
        case issue(DecodeIssue)
    }

    private func embeddedEvent(_ parsed: SimdJSONParser.Outcome, position: Int?) -> EmbeddedEvent {
        switch parsed {
        case .failed(let failure):
            var issue = Self.issue(for: failure, what: "\(Self.place(position))properties.log", position: position)
            if issue.reason == .malformedJSON { issue.reason = .embeddedLogNotJSON }
            return .issue(issue)
        case .parsed(let inner):
            guard inner.kind == .object else {
                return .issue(DecodeIssue(.embeddedLogNotJSON,
                                          "\(Self.place(position))properties.log is JSON but not an object",
                                          position: position))
            }
            return .event(inner)
        }
    }

    /// The event of a diagnostic record's audit Event `document`: the cluster from
    /// `resourceID`, else the `label` (Panther's `p_source_label`), else the
    /// configured one; the record's `time` when the Event has none.
    private func azureEvent(
        _ document: JSONNode, raw: RawJSON, envelopeBytes: [UInt8]?, envelope: JSONNode?,
        resourceID: UnsafeBufferPointer<UInt8>?,
        label: (inout DecodeWarnings) -> String?, time: (inout DecodeWarnings) -> EventTime?
    ) -> DecodeOutcome {
        var event = kubernetesEvent(.azureMonitorActivity, raw: raw, document: document)
        var w = event.warnings
        event.cluster = resourceID.flatMap { aksCluster(fromResourceID: $0) } ?? label(&w) ?? options.clusterLabel
        if event.time == nil {
            event.time = time(&w)
            if event.time != nil { w.remove(.invalidTime) }
        }
        event.warnings = w
        if let envelopeBytes { event.envelope = RawJSON(envelopeBytes) }
        finish(&event, document: document, envelope: envelope)
        return .decoded(event)
    }

    /// The cluster of a `resourceId`, remembered for the next record with the same one.
    private func aksCluster(fromResourceID bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let same = bytes.count == lastResourceID.count && lastResourceID.withUnsafeBufferPointer { last in
            guard let a = last.baseAddress, let b = bytes.baseAddress else { return true }
            return memcmp(a, b, bytes.count) == 0
        }
        if same { return lastAKSCluster }
        lastAKSCluster = Self.aksCluster(fromResourceID: bytes, strings)
        lastResourceID = Array(bytes)
        return lastAKSCluster
    }

    /// `/SUBSCRIPTIONS/.../MANAGEDCLUSTERS/<name>` → `<name>` (as written).
    static func aksCluster(fromResourceID id: String) -> String? {
        var id = id
        return id.withUTF8 { aksCluster(fromResourceID: $0) }
    }

    /// The same on the UTF-8 bytes of `resourceId`, without splitting.
    static func aksCluster(
        fromResourceID bytes: UnsafeBufferPointer<UInt8>, _ cache: StringTables? = nil
    ) -> String? {
        let marker: StaticString = "managedclusters"
        return marker.withUTF8Buffer { needle in aksCluster(bytes, needle, cache) }
    }

    private static func aksCluster(
        _ bytes: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>, _ cache: StringTables?
    ) -> String? {
        var found: Range<Int>?
        var start = 0
        // Segments are the runs between '/'; the last one equal to the marker
        // (ASCII case-insensitively) wins, and its next non-empty segment is the name.
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "/") { end += 1 }
            if end - start == needle.count {
                var same = true
                for k in 0..<needle.count where bytes[start + k] | 0x20 != needle[k] { same = false; break }
                if same {
                    var nameStart = end + 1
                    while nameStart < bytes.count && bytes[nameStart] == UInt8(ascii: "/") { nameStart += 1 }
                    var nameEnd = nameStart
                    while nameEnd < bytes.count && bytes[nameEnd] != UInt8(ascii: "/") { nameEnd += 1 }
                    found = nameStart < nameEnd ? nameStart..<nameEnd : nil
                }
            }
            start = end + 1
        }
        guard let found else { return nil }
        let name = UnsafeBufferPointer(rebasing: bytes[found])
        return cache?.string(name) ?? String(decoding: name, as: UTF8.self)
    }
}
