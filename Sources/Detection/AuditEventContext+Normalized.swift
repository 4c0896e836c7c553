import AuditEvents

extension AuditEventContext {
    /// A normalized field's values read straight from the event's typed
    /// properties (each part's field read in place): what `AuditEvent.value(of:)`
    /// answers, without building a `JSONValue` first (no allocation for single
    /// values; one for lists).
    func values(of field: NormalizedField) -> FieldValues {
        @inline(__always) func s(_ v: String?) -> FieldValues { v.map { .one(.string($0)) } ?? .none }
        @inline(__always) func n(_ v: Int?) -> FieldValues { v.map { .one(.number(Double($0))) } ?? .none }
        func list(_ v: [String]) -> FieldValues {
            switch v.count {
            case 0: return .none
            case 1: return .one(.string(v[0]))
            default: return .many(v.map(FieldValue.string))
            }
        }
        switch field {
        case .logType: return .one(.string(event.logType.rawValue))
        case .time: return s(event.time?.description)
        case .cluster: return s(event.cluster)
        case .kubernetes: return .one(.bool(event.isKubernetes))
        case .sourceIP: return s(event.sourceIP)
        case .sourceIPs: return list(event.sourceIPs)
        case .userName: return s(event.userName)
        case .userUID: return s(event.userUID)
        case .userGroups: return list(event.userGroups)
        case .verb: return s(event.verb)
        case .objectResource: return s(event.objectResource)
        case .objectSubresource: return s(event.objectSubresource)
        case .objectNamespace: return s(event.objectNamespace)
        case .objectName: return s(event.objectName)
        case .objectAPIGroup: return s(event.objectAPIGroup)
        case .objectAPIVersion: return s(event.objectAPIVersion)
        case .requestURI: return s(event.requestURI)
        case .responseCode: return n(event.responseCode)
        case .responseStatus: return s(event.responseStatus)
        case .responseReason: return s(event.responseReason)
        case .responseMessage: return s(event.responseMessage)
        case .responseGRPCCode: return n(event.responseGRPCCode)
        case .userAgent: return s(event.userAgent)
        case .stage: return s(event.stage)
        case .auditID: return s(event.auditID)
        case .level: return s(event.level)
        case .authorizationDecision: return s(event.authorizationDecision)
        case .authorizationReason: return s(event.authorizationReason)
        case .processName: return s(event.process?.name)
        case .processExecutable: return s(event.process?.executable)
        case .processArgs: return list(event.process?.args ?? [])
        case .processInteractive: return event.process?.interactive.map { .one(.bool($0)) } ?? .none
        case .processPID: return event.process?.pid.map { .one(.number(Double($0))) } ?? .none
        case .processParentName: return s(event.process?.parentName)
        case .containerID: return s(event.process?.containerID)
        case .containerImage: return s(event.process?.containerImage)
        case .hostOSType: return s(event.process?.hostOSType)
        case .eventType: return list(event.process?.eventTypes ?? [])
        case .eventAction: return s(event.process?.eventAction)
        case .eventCategory: return list(event.process?.eventCategories ?? [])
        case .eventKind: return s(event.process?.eventKind)
        case .warnings: return list(event.warnings.names)
        }
    }

    /// Whether any value of a normalized field satisfies `predicate`: as
    /// `values(of:).contains(where:)`, without collecting list values into
    /// an array and reading only the part of the event the field lives in.
    @inline(__always)
    func contains(_ field: NormalizedField, where predicate: (FieldValue) -> Bool) -> Bool {
        @inline(__always) func s(_ v: String?) -> Bool {
            guard let v else { return false }
            return predicate(.string(v))
        }
        @inline(__always) func n(_ v: Int?) -> Bool {
            guard let v else { return false }
            return predicate(.number(Double(v)))
        }
        @inline(__always) func list(_ v: [String]) -> Bool {
            for element in v where predicate(.string(element)) { return true }
            return false
        }
        switch field {
        case .kubernetes: return predicate(.bool(event.isKubernetes))
        case .sourceIP: return s(event.sourceIP)
        case .sourceIPs: return list(event.sourceIPs)
        case .userName: return s(event.userName)
        case .userGroups: return list(event.userGroups)
        case .stage: return s(event.stage)
        case .requestURI: return s(event.requestURI)
        case .verb: return s(event.verb)
        case .responseCode: return n(event.responseCode)
        case .responseGRPCCode: return n(event.responseGRPCCode)
        case .processArgs: return list(event.process?.args ?? [])
        case .eventType: return list(event.process?.eventTypes ?? [])
        case .eventCategory: return list(event.process?.eventCategories ?? [])
        case .warnings: return list(event.warnings.names)
        default: return values(of: field).contains(where: predicate)
        }
    }
}
