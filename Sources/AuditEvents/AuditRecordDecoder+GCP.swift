/// GKE: Cloud Audit Log entries. Entries of `protoPayload.serviceName`
/// `k8s.io` are Kubernetes events; others decode as GCP.AuditLog with
/// `isKubernetes == false`.
///
/// Mapping: `authenticationInfo.principalEmail` → user name;
/// `requestMetadata.callerIp` (or Panther's `callerIP`) → source IP;
/// `callerSuppliedUserAgent` → user agent; the last part of `methodName` →
/// verb; `resourceName` → object reference and a request URI built from it
/// (`/api/v1/...` for the core group, `/apis/<group>/<version>/...` otherwise,
/// `/<resourceName>` when it is not a resource path); `status.code` (gRPC) →
/// HTTP code (absent or 0 → 200, 7 → 403, 16 → 401, ...), with the gRPC code
/// kept in ``ResponseStatus/grpcCode``; `labels` → authorization annotations;
/// `operation.id` (else `insertId`) → audit ID.
extension AuditRecordDecoder {
    /// Positions of an entry's keys in ``autoKeys`` (one pass serves
    /// detection and the entry).
    enum EntryKey: Int {
        case protoPayload = 20, labels = 29, operation = 30, insertId = 31, resource = 32, pSourceLabel = 14
        case timestamp = 12, receiveTimestamp = 33, pEventTime = 13
    }
    enum PayloadKey: Int { case serviceName, authenticationInfo, requestMetadata, methodName, resourceName, status }
    static let payloadKeys = KeySet([
        "serviceName", "authenticationInfo", "requestMetadata", "methodName", "resourceName", "status",
    ])

    func decodeGCPEntry(_ entry: JSONNode, raw: [UInt8]) -> DecodeOutcome {
        entry.pick(Self.autoKeys) { f in decodeGCPEntry(entry, f, raw: raw) }
    }

    /// The same from the entry's members picked with ``autoKeys``.
    func decodeGCPEntry(_ entry: JSONNode, _ f: PickedFields, raw: [UInt8]) -> DecodeOutcome {
        guard let payload = f[EntryKey.protoPayload] else {
            return .deadLetter(DecodeIssue(.missingField, "protoPayload is missing"))
        }
        guard payload.kind == .object else {
            return .deadLetter(DecodeIssue(.wrongType, "protoPayload is not an object"))
        }
        var event = makeEvent(.gcpAuditLog, raw: raw)
        var w = event.warnings
        var ips: [String] = []
        payload.pick(Self.payloadKeys) { p in
            event.withFields { mapPayload(p, into: &$0, ips: &ips, &w) }
        }
        if let labels = FieldReader.object(f[EntryKey.labels], &w) {
            labels.pick(Self.annotationKeys) { a in
                event.authorization.decision = FieldReader.string(a[AnnotationKey.decision], &w)
                event.authorization.reason = FieldReader.string(a[AnnotationKey.reason], &w, strings)
            }
        }
        event.auditID = FieldReader.string(f[EntryKey.operation]?.field("id"), &w)
            ?? FieldReader.string(f[EntryKey.insertId], &w)
        event.cluster = FieldReader.string(f[EntryKey.resource]?.field("labels", "cluster_name"), &w, strings)
            ?? FieldReader.string(f[EntryKey.pSourceLabel], &w)
            ?? options.clusterLabel
        event.time = FieldReader.time(f[EntryKey.timestamp], &w)
            ?? FieldReader.time(f[EntryKey.receiveTimestamp], &w)
            ?? FieldReader.time(f[EntryKey.pEventTime], &w)
        if event.time != nil { w.remove(.invalidTime) }
        event.warnings = w
        FieldReader.sourceIPs(ips, into: &event, strings)
        finish(&event, document: entry, envelope: nil)
        return .decoded(event)
    }

    private func mapPayload(_ p: PickedFields, into event: inout AuditEvent.Fields, ips: inout [String],
                            _ w: inout DecodeWarnings) {
        event.isKubernetes = p[PayloadKey.serviceName]?.stringEquals("k8s.io") == true
        event.user.name = FieldReader.string(p[PayloadKey.authenticationInfo]?.field("principalEmail"), &w, strings)
        if let metadata = FieldReader.object(p[PayloadKey.requestMetadata], &w) {
            let caller = metadata.field("callerIp") ?? metadata.field("callerIP")
            if let bytes = caller?.stringBytes {
                ips = withUnsafePointer(to: bytes) { one in
                    strings.list(UnsafeBufferPointer(start: one, count: 1))
                } ?? [String(decoding: bytes, as: UTF8.self)]
            } else if let ip = FieldReader.string(caller, &w) {
                ips.append(ip)
            }
            event.userAgent = FieldReader.string(metadata.field("callerSuppliedUserAgent"), &w, strings)
        }
        if event.isKubernetes {
            if let method = p[PayloadKey.methodName]?.stringBytes {
                let dot = method.lastIndex(of: UInt8(ascii: ".")).map { $0 + 1 } ?? 0
                event.verb = String(decoding: UnsafeBufferPointer(rebasing: method[dot...]), as: UTF8.self)
            } else if p[PayloadKey.methodName].map({ !$0.isNull }) == true {
                w.insert(.wrongType)
            }
            if let bytes = p[PayloadKey.resourceName]?.stringBytes {
                Self.mapResourceName(bytes, into: &event, strings)
            } else if var resourceName = FieldReader.string(p[PayloadKey.resourceName], &w) {
                resourceName.withUTF8 { Self.mapResourceName($0, into: &event, nil) }
            }
        }
        if event.verb == nil { w.insert(.missingField) }

        var grpc: Int?
        if let status = FieldReader.object(p[PayloadKey.status], &w) {
            grpc = FieldReader.int(status.field("code"), &w)
            event.response.message = FieldReader.string(status.field("message"), &w)
        }
        event.response.grpcCode = grpc
        let code = grpc ?? 0
        event.response.code = Self.httpStatus(forGRPC: code)
        event.response.status = code == 0 ? "Success" : "Failure"
        event.response.reason = Self.grpcName(code)
    }

    /// `core/v1/namespaces/default/pods/web/exec` and the like.
    static func mapResourceName(
        _ bytes: UnsafeBufferPointer<UInt8>, into event: inout AuditEvent.Fields, _ cache: StringCache?
    ) {
        let mapped = { () -> Bool in
            // Up to 8 segments, as (start, end) offsets; more means not a resource path.
            var starts = (0, 0, 0, 0, 0, 0, 0, 0)
            var ends = (0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            var segmentStart = 0
            var ok = true
            withUnsafeMutableBytes(of: &starts) { startsRaw in
                withUnsafeMutableBytes(of: &ends) { endsRaw in
                    let s = startsRaw.bindMemory(to: Int.self)
                    let e = endsRaw.bindMemory(to: Int.self)
                    for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "/") {
                        guard count < 8, i > segmentStart else { ok = false; break }
                        s[count] = segmentStart
                        e[count] = i
                        count += 1
                        segmentStart = i + 1
                    }
                }
            }
            guard ok, count >= 3 else { return false }
            func segment(_ k: Int) -> UnsafeBufferPointer<UInt8> {
                let (a, b) = withUnsafeBytes(of: starts) { sr in
                    withUnsafeBytes(of: ends) { er in
                        (sr.load(fromByteOffset: k * 8, as: Int.self), er.load(fromByteOffset: k * 8, as: Int.self))
                    }
                }
                return UnsafeBufferPointer(rebasing: bytes[a..<b])
            }
            func text(_ k: Int) -> String? { k < count ? String(decoding: segment(k), as: UTF8.self) : nil }
            let version = segment(1)
            guard version.count > 1, version[0] == UInt8(ascii: "v") else { return false }
            let isCore = segment(0).equals("core")
            event.object.apiGroup = isCore ? "" : text(0)
            event.object.apiVersion = text(1)
            var k = 2
            if count >= 5, segment(2).equals("namespaces") {
                event.object.namespace = text(3)
                k = 4
            }
            event.object.resource = text(k)
            event.object.name = text(k + 1)
            event.object.subresource = text(k + 2)
            if event.object.namespace == nil, segment(k).equals("namespaces") {
                event.object.namespace = event.object.name
            }
            let rest = isCore ? UnsafeBufferPointer(rebasing: bytes[5...]) : bytes
            let prefix: StaticString = isCore ? "/api/" : "/apis/"
            event.requestURI = prefix.withUTF8Buffer { joined($0, rest, cache) }
            return true
        }()
        if !mapped {
            if bytes.first == UInt8(ascii: "/") {
                event.requestURI = cache?.string(bytes) ?? String(decoding: bytes, as: UTF8.self)
            } else {
                let slash: StaticString = "/"
                event.requestURI = slash.withUTF8Buffer { joined($0, bytes, cache) }
            }
        }
    }

    /// `a` followed by `b` as one string, through `cache` when given.
    private static func joined(
        _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, _ cache: StringCache?
    ) -> String {
        let n = a.count + b.count
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(n, 1)) { buffer in
            guard let base = buffer.baseAddress else {
                return String(decoding: a, as: UTF8.self) + String(decoding: b, as: UTF8.self)
            }
            if let pa = a.baseAddress { base.update(from: pa, count: a.count) }
            if let pb = b.baseAddress { (base + a.count).update(from: pb, count: b.count) }
            let text = UnsafeBufferPointer(start: base, count: n)
            return cache?.string(text) ?? String(decoding: text, as: UTF8.self)
        }
    }

    /// The HTTP status Kubernetes would have sent for a gRPC code.
    static func httpStatus(forGRPC code: Int) -> Int {
        switch code {
        case 0: return 200
        case 1: return 499
        case 3, 9, 11: return 400
        case 4: return 504
        case 5: return 404
        case 6, 10: return 409
        case 7: return 403
        case 8: return 429
        case 12: return 501
        case 14: return 503
        case 16: return 401
        default: return 500
        }
    }

    static func grpcName(_ code: Int) -> String {
        names.indices.contains(code) ? names[code] : "UNKNOWN"
    }

    private static let names = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                     "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                     "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                     "UNAUTHENTICATED"]
}
