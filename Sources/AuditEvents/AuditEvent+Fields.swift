/// The normalized field names: `vigil decode` output keys, and what the
/// detection engine resolves before falling back to raw paths.
public enum NormalizedField: String, Sendable, CaseIterable {
    case logType = "log_type"
    case time
    case cluster
    case kubernetes
    case sourceIP = "source.ip"
    case sourceIPs = "source.ips"
    case userName = "user.name"
    case userUID = "user.uid"
    case userGroups = "user.groups"
    case verb
    case objectResource = "object.resource"
    case objectSubresource = "object.subresource"
    case objectNamespace = "object.namespace"
    case objectName = "object.name"
    case objectAPIGroup = "object.api_group"
    case objectAPIVersion = "object.api_version"
    case requestURI = "request.uri"
    case responseCode = "response.code"
    case responseStatus = "response.status"
    case responseReason = "response.reason"
    case responseMessage = "response.message"
    case responseGRPCCode = "response.grpc_code"
    case userAgent = "user_agent"
    case stage
    case auditID = "audit_id"
    case level
    case authorizationDecision = "authorization.decision"
    case authorizationReason = "authorization.reason"
    case processName = "process.name"
    case processExecutable = "process.executable"
    case processArgs = "process.args"
    case processInteractive = "process.interactive"
    case processPID = "process.pid"
    case processParentName = "process.parent.name"
    case containerID = "container.id"
    case containerImage = "container.image.name"
    case hostOSType = "host.os.type"
    case eventType = "event.type"
    case eventAction = "event.action"
    case eventCategory = "event.category"
    case eventKind = "event.kind"
    case warnings
}

extension AuditEvent {
    /// The value of a normalized field; nil when the event has none.
    public func value(of field: NormalizedField) -> JSONValue? {
        func s(_ v: String?) -> JSONValue? { v.map(JSONValue.string) }
        func list(_ v: [String]) -> JSONValue? { v.isEmpty ? nil : .array(v.map(JSONValue.string)) }
        func i(_ v: Int?) -> JSONValue? { v.map { .int(Int64($0)) } }
        switch field {
        case .logType: return .string(logType.rawValue)
        case .time: return s(time?.description)
        case .cluster: return s(cluster)
        case .kubernetes: return .bool(isKubernetes)
        case .sourceIP: return s(sourceIP)
        case .sourceIPs: return list(sourceIPs)
        case .userName: return s(user.name)
        case .userUID: return s(user.uid)
        case .userGroups: return list(user.groups)
        case .verb: return s(verb)
        case .objectResource: return s(object.resource)
        case .objectSubresource: return s(object.subresource)
        case .objectNamespace: return s(object.namespace)
        case .objectName: return s(objectName)
        case .objectAPIGroup: return s(object.apiGroup)
        case .objectAPIVersion: return s(object.apiVersion)
        case .requestURI: return s(requestURI)
        case .responseCode: return i(response.code)
        case .responseStatus: return s(response.status)
        case .responseReason: return s(response.reason)
        case .responseMessage: return s(response.message)
        case .responseGRPCCode: return i(response.grpcCode)
        case .userAgent: return s(userAgent)
        case .stage: return s(stage)
        case .auditID: return s(auditID)
        case .level: return s(level)
        case .authorizationDecision: return s(authorization.decision)
        case .authorizationReason: return s(authorization.reason)
        case .processName: return s(process?.name)
        case .processExecutable: return s(process?.executable)
        case .processArgs: return process.flatMap { list($0.args) }
        case .processInteractive: return process?.interactive.map(JSONValue.bool)
        case .processPID: return process?.pid.map(JSONValue.int)
        case .processParentName: return s(process?.parentName)
        case .containerID: return s(process?.containerID)
        case .containerImage: return s(process?.containerImage)
        case .hostOSType: return s(process?.hostOSType)
        case .eventType: return process.flatMap { list($0.eventTypes) }
        case .eventAction: return s(process?.eventAction)
        case .eventCategory: return process.flatMap { list($0.eventCategories) }
        case .eventKind: return s(process?.eventKind)
        case .warnings: return list(warnings.names)
        }
    }

    /// A field by name: a normalized name first, else a raw dotted path.
    public func value(named name: String) -> JSONValue? {
        if let field = NormalizedField(rawValue: name) { return value(of: field) }
        guard let path = try? FieldPath(name) else { return nil }
        return rawValue(at: path)
    }

    /// One JSON line with every normalized field that has a value, in
    /// ``NormalizedField`` order: what `vigil decode` prints.
    public func jsonLine() -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for field in NormalizedField.allCases {
            guard let v = value(of: field) else { continue }
            writer.key(field.rawValue)
            writer.value(v)
        }
        writer.endObject()
        return writer.text
    }
}
