/// AKS: Azure Monitor diagnostic records (`category` kube-audit or
/// kube-audit-admin, `properties.log` an audit Event as a JSON string or an
/// object), alone or in an Event Hubs `{"records": [...]}` batch.
extension AuditRecordDecoder {
    func decodeAzureBatch(_ root: JSONNode, into outcomes: inout [DecodeOutcome]) {
        guard let records = root.field("records"), records.kind == .array else {
            outcomes.append(.deadLetter(DecodeIssue(.wrongType, "records is not an array")))
            return
        }
        var position = 0
        records.forEachElement { record in
            defer { position += 1 }
            guard record.kind == .object else {
                outcomes.append(.deadLetter(DecodeIssue(
                    .notAnObject, "records[\(position)] is not an object", position: position)))
                return
            }
            outcomes.append(decodeAzureRecord(record, recordBytes: nil, position: position))
        }
        if position == 0 {
            outcomes.append(.skipped(DecodeIssue(.emptyBatch, "Event Hubs batch with no records")))
        }
    }

    /// One diagnostic record. `recordBytes` is the record's own JSON when it
    /// was the whole Kafka record (a batch element is re-serialized instead).
    func decodeAzureRecord(_ record: JSONNode, recordBytes: [UInt8]?, position: Int?) -> DecodeOutcome {
        let where_ = position.map { "records[\($0)]." } ?? ""
        if let category = record.field("category") {
            guard category.stringEquals("kube-audit") || category.stringEquals("kube-audit-admin") else {
                let name = category.string ?? JSONValue(category).jsonText
                return .skipped(DecodeIssue(.notKubernetesCategory, "category \(name)", position: position))
            }
        } else if record.field("properties", "log") == nil {
            return .skipped(DecodeIssue(
                .notKubernetesCategory, "record has no category and no properties.log", position: position))
        }
        guard let log = record.field("properties", "log") else {
            return .deadLetter(DecodeIssue(.missingField, "\(where_)properties.log is missing", position: position))
        }
        let envelopeBytes = options.keepRaw ? (recordBytes ?? record.serialized()) : nil
        var event: AuditEvent
        let document: JSONNode
        switch log.kind {
        case .object:
            document = log
            event = makeEvent(.azureMonitorActivity, raw: log.serialized())
        case .string:
            guard let bytes = log.stringBytes else {
                return .deadLetter(DecodeIssue(.wrongType, "\(where_)properties.log unreadable", position: position))
            }
            switch inner.parse(UnsafeRawBufferPointer(bytes)) {
            case .failed(let failure):
                var issue = Self.issue(for: failure, what: "\(where_)properties.log", position: position)
                if issue.reason == .malformedJSON { issue.reason = .embeddedLogNotJSON }
                return .deadLetter(issue)
            case .parsed(let inner):
                guard inner.kind == .object else {
                    return .deadLetter(DecodeIssue(
                        .embeddedLogNotJSON, "\(where_)properties.log is JSON but not an object", position: position))
                }
                document = inner
                event = makeEvent(.azureMonitorActivity, raw: Array(bytes))
            }
        default:
            return .deadLetter(DecodeIssue(
                .wrongType, "\(where_)properties.log is a JSON \(log.kind), not a string or object",
                position: position))
        }
        mapKubernetesEvent(document, into: &event)
        var w = event.warnings
        event.cluster = record.field("resourceId")?.string.flatMap(Self.aksCluster(fromResourceID:))
            ?? FieldReader.string(record.field("p_source_label"), &w)
            ?? options.clusterLabel
        if event.time == nil {
            event.time = FieldReader.time(record.field("time"), &w)
            if event.time != nil { w.remove(.invalidTime) }
        }
        event.warnings = w
        if let envelopeBytes { event.envelope = RawJSON(envelopeBytes) }
        finish(&event, document: document, envelope: record)
        return .decoded(event)
    }

    /// `/SUBSCRIPTIONS/.../MANAGEDCLUSTERS/<name>` → `<name>` (as written).
    static func aksCluster(fromResourceID id: String) -> String? {
        let parts = id.utf8.split(separator: UInt8(ascii: "/"))
        let marker = "managedclusters".utf8
        guard let i = parts.lastIndex(where: { part in
            part.count == marker.count && zip(part, marker).allSatisfy { $0 | 0x20 == $1 }
        }), i + 1 < parts.count else {
            return nil
        }
        return String(Substring(parts[i + 1]))
    }
}
