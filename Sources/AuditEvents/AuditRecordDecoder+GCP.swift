import CSimdJSON

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
    /// Positions of an entry's keys in ``autoTree`` (one walk serves
    /// detection and the entry, nested objects included).
    enum EntryKey: Int {
        case timestamp = 12, pEventTime = 13, pSourceLabel = 14
        case protoPayload = 35
        case labels = 44, operation, insertId, resource, receiveTimestamp
        case serviceName = 51, authenticationInfo, requestMetadata, methodName, resourceName, status
        case principalEmail, callerIp, callerIP, callerSuppliedUserAgent, code, message
        case decision, reason, operationID, resourceLabels, clusterName
    }

    /// What an entry's method, resource name and user agent make: the shared
    /// parts (the URI and object name are the event's own, read per entry:
    /// ``AuditEvent/requestURI``).
    struct GKEResource: Sendable, Hashable {
        var request: Shared<RequestLine>
        var object: Shared<ObjectReference>
    }

    /// A Cloud Audit Log entry from its members picked with ``autoTree``.
    func decodeGCPEntry(_ entry: JSONNode, _ f: PickedFields, raw: [UInt8]) -> DecodeOutcome {
        guard let payload = f[EntryKey.protoPayload] else {
            return .deadLetter(DecodeIssue(.missingField, "protoPayload is missing"))
        }
        guard payload.kind == .object else {
            return .deadLetter(DecodeIssue(.wrongType, "protoPayload is not an object"))
        }
        var event = gcpEvent(f, raw: rawJSON(raw))
        finish(&event, document: entry, envelope: nil)
        return .decoded(event)
    }

    /// The members an entry's shared parts are made of (``entryParts``):
    /// one key for all of them, with the `resourceName` after them
    /// (``PartKey/resourceName(_:_:)``: without the object's name) and the
    /// caller IP apart (``callerIPs``).
    static let entryPartsSpec = PartSpec([
        (EntryKey.serviceName, VJ_KEY_STRING), (EntryKey.principalEmail, VJ_KEY_STRING),
        (EntryKey.callerSuppliedUserAgent, VJ_KEY_STRING), (EntryKey.methodName, VJ_KEY_STRING),
        (EntryKey.code, VJ_KEY_INT), (EntryKey.message, VJ_KEY_STRING),
        (EntryKey.decision, VJ_KEY_STRING), (EntryKey.reason, VJ_KEY_STRING),
    ])

    /// A new event read from an entry's picked members, its stored fields built at once (as
    /// ``kubernetesEvent(_:raw:_:)``: not over a new event's defaults).
    private func gcpEvent(_ f: PickedFields, raw: consuming RawJSON) -> AuditEvent {
        var w = DecodeWarnings()
        let strings = self.strings
        let isKubernetes = f[EntryKey.serviceName]?.stringEquals("k8s.io") == true
        // All shared parts in one lookup when this combination was seen
        // before (its members are the key), else part by part; the entry is
        // requested from memory first and looked up after the entry's own
        // fields are read (the table is too large for the nearest caches).
        let parts = self.parts
        let resourceName = f[EntryKey.resourceName]
        let path = resourceName?.stringBytes.map(ResourcePath.init)
        var key = PartKey.unusable
        if Self.hasPlainEntryContainers(f) {
            key = parts.longKey(f, statics.entryPartsSpec)
            key.resourceName(resourceName, path)
        }
        let lookup = parts.entries.prefetch(key)
        let auditID = FieldReader.inlineText(f[EntryKey.operationID], &w)
            ?? FieldReader.inlineText(f[EntryKey.insertId], &w)
        let cluster = FieldReader.string(f[EntryKey.clusterName], &w, strings)
            ?? FieldReader.string(f[EntryKey.pSourceLabel], &w, strings)
            ?? options.clusterLabel
        let time = FieldReader.time(f[EntryKey.timestamp], &w)
            ?? FieldReader.time(f[EntryKey.receiveTimestamp], &w)
            ?? FieldReader.time(f[EntryKey.pEventTime], &w)
        if time != nil { w.remove(.invalidTime) }
        let all = !parts.enabled ? Shared(entryParts(f, isKubernetes, path, &w)) : parts.entries.part(lookup, &w) {
            entryParts(f, isKubernetes, path, &$0)
        }
        w.formUnion(all.value.derivedWarnings)
        var requestURI: String?
        var objectName: String?
        if isKubernetes {
            withResourcePath(resourceName, path, &w) { path, cache in
                requestURI = path.uri(cache)
                objectName = path.name(cache)
            }
        }
        let ips = callerIPs(f, &w)
        w.formUnion(ips.warnings)
        return AuditEvent(AuditEvent.Fields(
            logType: .gcpAuditLog, time: time, cluster: cluster, isKubernetes: isKubernetes,
            parts: all,  // moved: one retain (the cache's hit) per event, not two
            sourceIPs: ips.ips, auditID: auditID, requestURI: requestURI, objectName: objectName, warnings: w,
            raw: raw))
    }

    /// True when `requestMetadata`, `status` and `labels` are each an
    /// object, null or absent (no warning to give for them).
    private static func hasPlainEntryContainers(_ f: PickedFields) -> Bool {
        func plain(_ key: EntryKey) -> Bool {
            guard let node = f[key] else { return true }
            return node.kind == .object || node.kind == .null
        }
        return plain(.requestMetadata) && plain(.status) && plain(.labels)
    }

    /// `body` with the ``ResourcePath`` of a `resourceName` (`path` when it
    /// is a string, else from the value read as a string, uncached); not
    /// called when there is none.
    private func withResourcePath(
        _ node: JSONNode?, _ path: ResourcePath?, _ w: inout DecodeWarnings,
        _ body: (ResourcePath, StringTables?) -> Void
    ) {
        if let path { return body(path, strings) }
        guard var text = FieldReader.string(node, &w) else { return }
        text.withUTF8 { body(ResourcePath($0), nil) }
    }

    /// An entry's shared parts, each through its own part cache.
    private func entryParts(
        _ f: PickedFields, _ isKubernetes: Bool, _ path: ResourcePath?, _ w: inout DecodeWarnings
    ) -> EventParts {
        let strings = self.strings
        let parts = self.parts
        var made = statics.noParts.value
        var userKey = parts.key()
        userKey.string(f[EntryKey.principalEmail])
        made.user = parts.users.part(
            userKey, &w) { UserInfo(name: FieldReader.string(f[EntryKey.principalEmail], &$0, strings)) }
        // Request line and object come from methodName, resourceName and the
        // user agent: one part-cache lookup for all of them.
        func resource(_ w: inout DecodeWarnings) -> GKEResource {
            var line = RequestLine()
            var object = ObjectReference()
            line.userAgent = FieldReader.string(f[EntryKey.callerSuppliedUserAgent], &w, strings)
            guard isKubernetes else { return GKEResource(request: Shared(line), object: noObject) }
            if let method = f[EntryKey.methodName]?.stringBytes {
                let dot = method.lastIndex(of: UInt8(ascii: ".")).map { $0 + 1 } ?? 0
                line.verb = strings.string(UnsafeBufferPointer(rebasing: method[dot...]))
            } else if f[EntryKey.methodName].map({ !$0.isNull }) == true {
                w.insert(.wrongType)
            }
            withResourcePath(f[EntryKey.resourceName], path, &w) { path, cache in object = path.object(cache) }
            return GKEResource(request: Shared(line), object: Shared(object))
        }
        var key = parts.key()
        key.value(isKubernetes ? 1 : 0)
        key.string(f[EntryKey.callerSuppliedUserAgent])
        if isKubernetes {
            key.string(f[EntryKey.methodName])
            key.resourceName(f[EntryKey.resourceName], path)
        }
        let line = parts.resources.part(key, &w) { resource(&$0) }.value
        made.request = line.request
        made.object = line.object

        var grpc: Int?
        var message: JSONNode?
        if FieldReader.object(f[EntryKey.status], &w) != nil {
            grpc = FieldReader.int(f[EntryKey.code], &w)
            message = f[EntryKey.message]
        }
        func response(_ w: inout DecodeWarnings) -> ResponseStatus {
            var response = ResponseStatus()
            response.message = FieldReader.string(message, &w, strings)
            response.grpcCode = grpc
            let code = grpc ?? 0
            response.code = Self.httpStatus(forGRPC: code)
            response.status = code == 0 ? "Success" : "Failure"
            response.reason = Self.grpcName(code)
            return response
        }
        var responseKey = parts.key()
        responseKey.value(grpc ?? Int.min)
        responseKey.string(message)
        made.response = parts.responses.part(responseKey, &w) { response(&$0) }

        if FieldReader.object(f[EntryKey.labels], &w) != nil {
            func annotations(_ w: inout DecodeWarnings) -> AuthorizationAnnotations {
                var annotations = AuthorizationAnnotations()
                annotations.decision = FieldReader.string(f[EntryKey.decision], &w, strings)
                annotations.reason = FieldReader.string(f[EntryKey.reason], &w, strings)
                return annotations
            }
            var key = parts.key()
            key.string(f[EntryKey.decision])
            key.string(f[EntryKey.reason])
            made.authorization = parts.authorizations.part(
                key, &w) { annotations(&$0) }
        }
        if made.request.value.verb == nil { made.derivedWarnings.insert(.missingField) }
        return made
    }

    /// `requestMetadata.callerIp` (or `callerIP`) as the source IP list, through the list cache.
    private func callerIPs(_ f: PickedFields, _ w: inout DecodeWarnings) -> SourceIPList {
        guard FieldReader.object(f[EntryKey.requestMetadata], &w) != nil else {
            return SourceIPList(ips: [], warnings: .missingSourceIP)
        }
        let strings = self.strings
        let caller = f[EntryKey.callerIp] ?? f[EntryKey.callerIP]
        if let address = caller?.shortStringBytes { return parts.addresses.list(parts.addresses.prefetch(address)) }
        var key = parts.key()
        key.string(caller)
        return parts.lists.value(key, &w) { w in
            var list: [String] = []
            if let bytes = caller?.stringBytes {
                list = [strings.string(bytes)]
            } else if let ip = FieldReader.string(caller, &w) {
                list = [ip]
            }
            var warnings = DecodeWarnings()
            FieldReader.sourceIPWarnings(list, &warnings)
            return SourceIPList(ips: list, warnings: warnings)
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
