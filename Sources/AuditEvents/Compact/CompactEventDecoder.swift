/// Reads events written by ``AuditEvent/writeCompact(into:documents:)``, parsing no JSON.
///
/// Repeated parts come from caches keyed by their encoded bytes (the parts as a whole, then
/// each part: user, object reference, request line, response, annotations; the source IPs and
/// the process fields on their own), and repeated strings from a string cache, so the events of one source
/// share their parts and a hit allocates nothing. Damaged input is a ``DecodeIssue``
/// (`corrupt_record`), never a trap; bytes that made nothing are never cached.
///
/// - Important: not thread-safe (it owns its caches); one per worker.
public final class CompactEventDecoder {
    let strings: StringCache
    let parts: PartCaches
    let processes: PartCache<ProcessDetails>
    /// The parts block's shared parts with the URI and object name in it (the event's own).
    let events: KeyedCache<Parts>
    let requests: KeyedCache<Request>
    let objects: KeyedCache<Object>

    struct Parts {
        var parts: Shared<EventParts>
        var uri: String?
        var name: String?
    }
    struct Request {
        var line: Shared<RequestLine>
        var uri: String?
    }
    struct Object {
        var object: Shared<ObjectReference>
        var name: String?
    }

    /// `stringCacheSlots`: as ``DecoderOptions/stringCacheSlots`` (0 turns the caches off).
    public init(stringCacheSlots: Int = 4096) {
        strings = StringCache(slots: stringCacheSlots)
        parts = PartCaches(slots: stringCacheSlots > 0 ? 1024 : 0)
        processes = PartCache(slots: stringCacheSlots > 0 ? 256 : 0)
        events = KeyedCache(slots: stringCacheSlots > 0 ? 1024 : 0)
        requests = KeyedCache(slots: stringCacheSlots > 0 ? 1024 : 0)
        objects = KeyedCache(slots: stringCacheSlots > 0 ? 1024 : 0)
    }

    /// A reader over `bytes` that shares this decoder's string cache.
    public func reader(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) -> CompactReader {
        CompactReader(bytes, position: position, strings: strings)
    }

    /// The event at the reader's position (`decoded`), or why it cannot be read (`deadLetter`).
    public func readEvent(_ r: inout CompactReader) -> DecodeOutcome {
        let code = r.byte()
        let flags = r.byte()
        guard !r.failed else { return .deadLetter(Self.corrupt("event header truncated")) }
        guard let logType = LogType(compactCode: code) else {
            return .deadLetter(Self.corrupt("unknown log type code \(code)"))
        }
        guard flags & ~AuditEvent.CompactFlag.all == 0 else { return .deadLetter(Self.corrupt("unknown event flags \(flags)")) }
        var time: EventTime?
        if flags & AuditEvent.CompactFlag.time != 0 {
            let seconds = r.int()
            let nanos = r.varint()
            guard nanos < 1_000_000_000 else { return .deadLetter(Self.corrupt("nanoseconds out of range")) }
            time = EventTime(seconds: seconds, nanoseconds: Int32(nanos))
        }
        let warningBits = r.varint()
        guard warningBits <= UInt64(UInt32.max) else { return .deadLetter(Self.corrupt("warnings out of range")) }
        let cluster = r.optionalString()
        let auditID = r.optionalText()
        let partsBlock = r.block()
        guard !r.failed else { return .deadLetter(Self.corrupt("event truncated before its parts")) }
        guard let eventParts = events.value(partsBlock, make: { readParts(partsBlock, r) }) else {
            return .deadLetter(Self.corrupt("event parts damaged"))
        }
        let sourceIPBytes = r.block()
        guard !r.failed, let sourceIPs = parts.lists.value(sourceIPBytes, make: { () -> SourceIPList? in
            var l = r.reader(of: sourceIPBytes)
            let list = l.strings()
            return l.atEnd ? SourceIPList(ips: list, warnings: []) : nil
        }) else {
            return .deadLetter(Self.corrupt("source IPs damaged"))
        }
        var process: ProcessDetails?
        if flags & AuditEvent.CompactFlag.process != 0 {
            let block = r.block()
            guard !r.failed, let shared = processes.part(block, make: { readProcess(r.reader(of: block)) }) else {
                return .deadLetter(Self.corrupt("process fields damaged"))
            }
            process = shared.value
        }
        var extracted: [JSONValue?] = []
        if flags & AuditEvent.CompactFlag.extracted != 0 {
            let count = r.varint()
            guard !r.failed, count <= UInt64(r.bytes.count - r.position) else {
                return .deadLetter(Self.corrupt("extracted fields damaged"))
            }
            for _ in 0..<count {
                guard r.bool() else { extracted.append(nil); continue }
                let text = r.take(r.length())
                guard !r.failed, let value = RawJSON(Array(text)).document else {
                    return .deadLetter(Self.corrupt("extracted field is not JSON"))
                }
                extracted.append(value)
            }
        }
        let raw = flags & AuditEvent.CompactFlag.raw != 0 ? RawJSON(r.blob()) : RawJSON([UInt8]())
        let envelope = flags & AuditEvent.CompactFlag.envelope != 0 ? RawJSON(r.blob()) : nil
        guard !r.failed else { return .deadLetter(Self.corrupt("event truncated")) }
        var event = AuditEvent(logType: logType, raw: raw)
        event.withFields { f in
            f.time = time
            f.isKubernetes = flags & AuditEvent.CompactFlag.kubernetes != 0
            f.warnings = DecodeWarnings(rawValue: UInt32(warningBits))
            f.cluster = cluster
            f.auditID = auditID
            f.parts = eventParts.parts
            f.requestURI = eventParts.uri
            f.objectName = eventParts.name
            f.sourceIPs = sourceIPs.ips
            f.process = process
            f.envelope = envelope
            f.extracted = extracted
        }
        return .decoded(event)
    }

    static func corrupt(_ detail: String) -> DecodeIssue {
        DecodeIssue(.corruptRecord, detail)
    }

    /// The parts block: each part from its own cache; nil when any is damaged or bytes are left.
    private func readParts(_ block: UnsafeBufferPointer<UInt8>, _ outer: CompactReader) -> Parts? {
        var r = outer.reader(of: block)
        let requestBytes = r.block(), userBytes = r.block(), objectBytes = r.block(), responseBytes = r.block()
        let authorizationBytes = r.block()
        guard r.atEnd else { return nil }
        guard let request = requests.value(requestBytes, make: { readRequest(r.reader(of: requestBytes)) }),
              let user = parts.users.part(userBytes, make: { readUser(r.reader(of: userBytes)) }),
              let object = objects.value(objectBytes, make: { readObject(r.reader(of: objectBytes)) }),
              let response = parts.responses.part(responseBytes, make: { readResponse(r.reader(of: responseBytes)) }),
              let authorization = parts.authorizations.part(authorizationBytes, make: {
                  readAuthorization(r.reader(of: authorizationBytes))
              })
        else { return nil }
        let shared = EventParts(request: request.line, user: user, object: object.object, response: response,
                                authorization: authorization)
        return Parts(parts: Shared(shared), uri: request.uri, name: object.name)
    }

    private func readRequest(_ reader: CompactReader) -> Request? {
        var r = reader
        let verb = r.optionalString(), uri = r.optionalString()
        let line = RequestLine(verb: verb, userAgent: r.optionalString(), stage: r.optionalString(),
                               level: r.optionalString())
        return r.atEnd ? Request(line: Shared(line), uri: uri) : nil
    }

    private func readUser(_ reader: CompactReader) -> UserInfo? {
        var r = reader
        let user = UserInfo(name: r.optionalString(), uid: r.optionalString(), groups: r.strings())
        return r.atEnd ? user : nil
    }

    private func readObject(_ reader: CompactReader) -> Object? {
        var r = reader
        var o = ObjectReference()
        o.resource = r.optionalString()
        o.subresource = r.optionalString()
        o.namespace = r.optionalString()
        let name = r.optionalString()
        o.apiGroup = r.optionalString()
        o.apiVersion = r.optionalString()
        return r.atEnd ? Object(object: Shared(o), name: name) : nil
    }

    private func readResponse(_ reader: CompactReader) -> ResponseStatus? {
        var r = reader
        var s = ResponseStatus()
        s.code = Self.int(r.optionalInt(), &r)
        s.status = r.optionalString()
        s.reason = r.optionalString()
        s.message = r.optionalString()
        s.grpcCode = Self.int(r.optionalInt(), &r)
        return r.atEnd ? s : nil
    }

    private func readAuthorization(_ reader: CompactReader) -> AuthorizationAnnotations? {
        var r = reader
        var a = AuthorizationAnnotations()
        a.decision = r.optionalString()
        a.reason = r.optionalString()
        return r.atEnd ? a : nil
    }

    private func readProcess(_ reader: CompactReader) -> ProcessDetails? {
        var r = reader
        var p = ProcessDetails()
        p.name = r.optionalString()
        p.executable = r.optionalString()
        p.args = r.strings()
        switch r.byte() {
        case 0: p.interactive = nil
        case 1: p.interactive = false
        case 2: p.interactive = true
        default: r.fail()
        }
        p.pid = r.optionalInt()
        p.parentName = r.optionalString()
        p.containerID = r.optionalString()
        p.containerImage = r.optionalString()
        p.hostOSType = r.optionalString()
        p.eventTypes = r.strings()
        p.eventAction = r.optionalString()
        p.eventCategories = r.strings()
        p.eventKind = r.optionalString()
        p.podNamespace = r.optionalString()
        p.podName = r.optionalString()
        return r.atEnd ? p : nil
    }

    /// An `Int` field from its encoded `Int64`; out of range is damage.
    private static func int(_ value: Int64?, _ r: inout CompactReader) -> Int? {
        guard let value else { return nil }
        guard let v = Int(exactly: value) else { r.fail(); return nil }
        return v
    }
}
