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
        let f = box.fields
        var flags: UInt8 = 0
        if f.time != nil { flags |= CompactFlag.time }
        if f.isKubernetes { flags |= CompactFlag.kubernetes }
        if f.process != nil { flags |= CompactFlag.process }
        if documents && !f.raw.bytes.isEmpty { flags |= CompactFlag.raw }
        if documents && f.envelope != nil { flags |= CompactFlag.envelope }
        if !f.extracted.isEmpty { flags |= CompactFlag.extracted }
        w.byte(f.logType.compactCode)
        w.byte(flags)
        if let time = f.time {
            w.int(time.seconds)
            w.varint(UInt64(UInt32(bitPattern: time.nanoseconds)))
        }
        w.varint(UInt64(f.warnings.rawValue))
        w.optionalString(f.cluster)
        w.optionalText(f.auditID)
        let parts = f.parts.value
        w.block { w in
            w.block { w in
                let r = parts.request.value
                w.optionalString(r.verb)
                w.optionalString(f.requestURI)
                w.optionalString(r.userAgent)
                w.optionalString(r.stage)
                w.optionalString(r.level)
            }
            w.block { w in
                let u = parts.user.value
                w.optionalString(u.name)
                w.optionalString(u.uid)
                w.strings(u.groups)
            }
            w.block { w in
                let o = parts.object.value
                w.optionalString(o.resource)
                w.optionalString(o.subresource)
                w.optionalString(o.namespace)
                w.optionalString(f.objectName)
                w.optionalString(o.apiGroup)
                w.optionalString(o.apiVersion)
            }
            w.block { w in
                let r = parts.response.value
                w.optionalInt(r.code.map(Int64.init))
                w.optionalString(r.status)
                w.optionalString(r.reason)
                w.optionalString(r.message)
                w.optionalInt(r.grpcCode.map(Int64.init))
            }
            w.block { w in
                let a = parts.authorization.value
                w.optionalString(a.decision)
                w.optionalString(a.reason)
            }
        }
        w.block { w in w.strings(f.sourceIPs) }
        if let p = f.process {
            w.block { w in
                w.optionalString(p.name)
                w.optionalString(p.executable)
                w.strings(p.args)
                w.byte(p.interactive.map { $0 ? 2 : 1 } ?? 0)
                w.optionalInt(p.pid)
                w.optionalString(p.parentName)
                w.optionalString(p.containerID)
                w.optionalString(p.containerImage)
                w.optionalString(p.hostOSType)
                w.strings(p.eventTypes)
                w.optionalString(p.eventAction)
                w.strings(p.eventCategories)
                w.optionalString(p.eventKind)
                w.optionalString(p.podNamespace)
                w.optionalString(p.podName)
            }
        }
        if !f.extracted.isEmpty {
            w.varint(UInt64(f.extracted.count))
            for value in f.extracted {
                guard let value else { w.byte(0); continue }
                w.byte(1)
                var json = JSONWriter()
                json.value(value)
                w.string(json.text)
            }
        }
        if flags & CompactFlag.raw != 0 { w.blob(f.raw.bytes) }
        if flags & CompactFlag.envelope != 0, let envelope = f.envelope { w.blob(envelope.bytes) }
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
        text.withUTF8 { utf8 in
            varint(UInt64(utf8.count) + 1)
            raw(utf8)
        }
    }
}
