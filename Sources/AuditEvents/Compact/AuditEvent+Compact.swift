/// The compact binary form of an event (``CompactWriter``): every field of the model, the
/// extracted raw fields, and, when asked, the documents it was decoded from. What Vigil's
/// ingest stage writes into a repartition record and its detect stage reads back with a
/// ``CompactEventDecoder``, without parsing JSON.
///
/// ```
/// log type     byte (``LogType/compactCode``)
/// flags        byte: 1 time, 2 kubernetes, 4 process, 8 raw document, 16 envelope, 32 extracted
/// time         int seconds, varint nanoseconds            (flag 1)
/// warnings     varint (``DecodeWarnings`` bits)
/// cluster      optionalString
/// audit id     optionalString
/// parts        block { request block, user block, object block, response block,
///                      authorization block }
/// source IPs   block { strings }
/// process      block                                       (flag 4)
/// extracted    varint count, each byte 0 (absent) or 1 and the value's JSON text  (flag 32)
/// raw          blob                                        (flag 8)
/// envelope     blob                                        (flag 16)
/// ```
///
/// The parts are blocks so the reader can key its caches on their bytes: events share their
/// parts without building them again. The request URI and the object's name are written in
/// the request and object blocks (where they were before the model kept them apart from the
/// parts), so records written before and after that change read the same. The source IPs are a block of their own, outside the
/// parts (as in the model): the same user, object and request come from many addresses.
extension AuditEvent {
    enum CompactFlag {
        static let time: UInt8 = 1
        static let kubernetes: UInt8 = 2
        static let process: UInt8 = 4
        static let raw: UInt8 = 8
        static let envelope: UInt8 = 16
        static let extracted: UInt8 = 32
        static let all: UInt8 = 63
    }

    /// The event without its documents (the raw JSON and the envelope): what a compact record
    /// written without documents gives back.
    public var withoutDocuments: AuditEvent {
        var copy = self
        copy.withFields { f in
            f.raw = RawJSON([UInt8]())
            f.envelope = nil
        }
        return copy
    }

    /// Appends the event's compact form; `documents`: with the raw document and the envelope
    /// (for rules that read raw JSON paths), else without them.
    public func writeCompact(into w: inout CompactWriter, documents: Bool) {
        // Every field is read where it is stored (`box.fields.…`, a part through its shared
        // box): a copy of the fields (`let f = box.fields`) or of a part retained and released
        // every reference in it, ~30 % of encoding an event.
        let box = self.box
        var flags: UInt8 = 0
        if box.fields.time != nil { flags |= CompactFlag.time }
        if box.fields.isKubernetes { flags |= CompactFlag.kubernetes }
        if box.fields.process != nil { flags |= CompactFlag.process }
        if documents && !box.fields.raw.bytes.isEmpty { flags |= CompactFlag.raw }
        if documents && box.fields.envelope != nil { flags |= CompactFlag.envelope }
        if !box.fields.extracted.isEmpty { flags |= CompactFlag.extracted }
        w.byte(box.fields.logType.compactCode)
        w.byte(flags)
        if let time = box.fields.time {
            w.int(time.seconds)
            w.varint(UInt64(UInt32(bitPattern: time.nanoseconds)))
        }
        w.varint(UInt64(box.fields.warnings.rawValue))
        w.optionalString(box.fields.cluster)
        w.optionalText(box.fields.auditID)
        let parts = box.fields.parts
        w.block { w in
            w.block { w in
                let r = parts.value.request
                w.optionalString(r.value.verb)
                w.optionalString(box.fields.requestURI)
                w.optionalString(r.value.userAgent)
                w.optionalString(r.value.stage)
                w.optionalString(r.value.level)
            }
            w.block { w in
                let u = parts.value.user
                w.optionalString(u.value.name)
                w.optionalString(u.value.uid)
                w.strings(u.value.groups)
            }
            w.block { w in
                let o = parts.value.object
                w.optionalString(o.value.resource)
                w.optionalString(o.value.subresource)
                w.optionalString(o.value.namespace)
                w.optionalString(box.fields.objectName)
                w.optionalString(o.value.apiGroup)
                w.optionalString(o.value.apiVersion)
            }
            w.block { w in
                let r = parts.value.response
                w.optionalInt(r.value.code.map(Int64.init))
                w.optionalString(r.value.status)
                w.optionalString(r.value.reason)
                w.optionalString(r.value.message)
                w.optionalInt(r.value.grpcCode.map(Int64.init))
            }
            w.block { w in
                let a = parts.value.authorization
                w.optionalString(a.value.decision)
                w.optionalString(a.value.reason)
            }
        }
        w.block { w in w.strings(box.fields.sourceIPs) }
        if box.fields.process != nil {
            w.block { w in Self.writeProcess(box, into: &w) }
        }
        if !box.fields.extracted.isEmpty {
            w.varint(UInt64(box.fields.extracted.count))
            for value in box.fields.extracted {
                guard let value else { w.byte(0); continue }
                w.byte(1)
                var json = JSONWriter()
                json.value(value)
                w.string(json.text)
            }
        }
        if flags & CompactFlag.raw != 0 { w.blob(box.fields.raw.bytes) }
        if flags & CompactFlag.envelope != 0, let envelope = box.fields.envelope { w.blob(envelope.bytes) }
    }

    /// A process event's details, read in place as above.
    private static func writeProcess(_ box: Box, into w: inout CompactWriter) {
        w.optionalString(box.fields.process!.name)
        w.optionalString(box.fields.process!.executable)
        w.strings(box.fields.process!.args)
        w.byte(box.fields.process!.interactive.map { $0 ? 2 : 1 } ?? 0)
        w.optionalInt(box.fields.process!.pid)
        w.optionalString(box.fields.process!.parentName)
        w.optionalString(box.fields.process!.containerID)
        w.optionalString(box.fields.process!.containerImage)
        w.optionalString(box.fields.process!.hostOSType)
        w.strings(box.fields.process!.eventTypes)
        w.optionalString(box.fields.process!.eventAction)
        w.strings(box.fields.process!.eventCategories)
        w.optionalString(box.fields.process!.eventKind)
        w.optionalString(box.fields.process!.podNamespace)
        w.optionalString(box.fields.process!.podName)
    }
}

extension LogType {
    /// The log type's byte in the compact encoding: fixed forever (new types take new numbers).
    public var compactCode: UInt8 {
        switch self {
        case .eksAudit: return 1
        case .azureMonitorActivity: return 2
        case .gcpAuditLog: return 3
        case .kubernetesAudit: return 4
        case .ecsProcess: return 5
        }
    }

    /// The log type of a ``compactCode``; nil for an unknown byte.
    public init?(compactCode: UInt8) {
        switch compactCode {
        case 1: self = .eksAudit
        case 2: self = .azureMonitorActivity
        case 3: self = .gcpAuditLog
        case 4: self = .kubernetesAudit
        case 5: self = .ecsProcess
        default: return nil
        }
    }
}

extension CompactWriter {
    /// An inline text, written as ``optionalString(_:)`` writes the same text.
    mutating func optionalText(_ text: InlineText?) {
        guard let text else { return byte(0) }
        text.withUTF8 { prefixed(UInt64($0.count) + 1, $0) }
    }
}
