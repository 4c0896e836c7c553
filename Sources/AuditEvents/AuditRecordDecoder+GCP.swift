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
    func decodeGCPEntry(_ entry: JSONNode, raw: [UInt8]) -> DecodeOutcome {
        guard let payload = entry.field("protoPayload") else {
            return .deadLetter(DecodeIssue(.missingField, "protoPayload is missing"))
        }
        guard payload.kind == .object else {
            return .deadLetter(DecodeIssue(.wrongType, "protoPayload is not an object"))
        }
        var event = makeEvent(.gcpAuditLog, raw: raw)
        var w = event.warnings
        event.isKubernetes = payload.field("serviceName")?.stringEquals("k8s.io") == true
        event.user.name = FieldReader.string(payload.field("authenticationInfo", "principalEmail"), &w)

        var ips: [String] = []
        if let metadata = payload.field("requestMetadata"), metadata.kind == .object {
            if let ip = FieldReader.string(metadata.field("callerIp") ?? metadata.field("callerIP"), &w) {
                ips.append(ip)
            }
            event.userAgent = FieldReader.string(metadata.field("callerSuppliedUserAgent"), &w)
        }

        let method = FieldReader.string(payload.field("methodName"), &w)
        let resourceName = FieldReader.string(payload.field("resourceName"), &w)
        if event.isKubernetes {
            if let method, let dot = method.lastIndex(of: ".") {
                event.verb = String(method[method.index(after: dot)...])
            } else {
                event.verb = method
            }
            if let resourceName {
                Self.mapResourceName(resourceName, into: &event)
            }
        }
        if event.verb == nil { w.insert(.missingField) }

        let status = payload.field("status")
        var grpc: Int?
        if let status, status.kind == .object {
            grpc = FieldReader.int(status.field("code"), &w)
            event.response.message = FieldReader.string(status.field("message"), &w)
        } else if let status, !status.isNull {
            w.insert(.wrongType)
        }
        event.response.grpcCode = grpc
        let code = grpc ?? 0
        event.response.code = Self.httpStatus(forGRPC: code)
        event.response.status = code == 0 ? "Success" : "Failure"
        event.response.reason = Self.grpcName(code)

        if let labels = entry.field("labels"), labels.kind == .object {
            event.authorization.decision = FieldReader.string(labels.field("authorization.k8s.io/decision"), &w)
            event.authorization.reason = FieldReader.string(labels.field("authorization.k8s.io/reason"), &w)
        }
        event.auditID = FieldReader.string(entry.field("operation", "id"), &w)
            ?? FieldReader.string(entry.field("insertId"), &w)
        event.cluster = FieldReader.string(entry.field("resource")?.field("labels")?.field("cluster_name"), &w)
            ?? FieldReader.string(entry.field("p_source_label"), &w)
            ?? options.clusterLabel
        event.time = FieldReader.time(entry.field("timestamp"), &w)
            ?? FieldReader.time(entry.field("receiveTimestamp"), &w)
            ?? FieldReader.time(entry.field("p_event_time"), &w)
        if event.time != nil { w.remove(.invalidTime) }
        event.warnings = w
        FieldReader.sourceIPs(ips, into: &event)
        finish(&event, document: entry, envelope: nil)
        return .decoded(event)
    }

    /// `core/v1/namespaces/default/pods/web/exec` and the like.
    static func mapResourceName(_ name: String, into event: inout AuditEvent) {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[1].hasPrefix("v"), parts[1].count > 1,
              !parts.contains(where: \.isEmpty)
        else {
            event.requestURI = name.hasPrefix("/") ? name : "/" + name
            return
        }
        let group = parts[0] == "core" ? "" : parts[0]
        event.object.apiGroup = group
        event.object.apiVersion = parts[1]
        let rest = Array(parts[2...])
        var tail: ArraySlice<String>
        if rest[0] == "namespaces" && rest.count >= 3 {
            event.object.namespace = rest[1]
            tail = rest[2...]
        } else {
            tail = rest[...]
        }
        event.object.resource = tail.first
        tail = tail.dropFirst()
        event.object.name = tail.first
        tail = tail.dropFirst()
        event.object.subresource = tail.first
        if event.object.resource == "namespaces", event.object.namespace == nil {
            event.object.namespace = event.object.name
        }
        let prefix = group.isEmpty ? "/api/\(parts[1])" : "/apis/\(group)/\(parts[1])"
        event.requestURI = prefix + "/" + rest.joined(separator: "/")
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
