import AuditEvents

/// The normalized fields whose values are text (one optional string or a
/// list of strings), read from the event as ``AuditEventContext`` reads them.
enum TextField: Sendable {
    case logType, cluster, sourceIP, sourceIPs, userName, userUID, userGroups, verb
    case objectResource, objectSubresource, objectNamespace, objectName, objectAPIGroup, objectAPIVersion
    case requestURI, responseStatus, responseReason, responseMessage, userAgent, stage, auditID, level
    case authorizationDecision, authorizationReason
    case processName, processExecutable, processArgs, processParentName, containerID, containerImage, hostOSType
    case eventType, eventAction, eventCategory, eventKind, warnings

    init?(_ field: NormalizedField) {
        switch field {
        case .logType: self = .logType
        case .cluster: self = .cluster
        case .sourceIP: self = .sourceIP
        case .sourceIPs: self = .sourceIPs
        case .userName: self = .userName
        case .userUID: self = .userUID
        case .userGroups: self = .userGroups
        case .verb: self = .verb
        case .objectResource: self = .objectResource
        case .objectSubresource: self = .objectSubresource
        case .objectNamespace: self = .objectNamespace
        case .objectName: self = .objectName
        case .objectAPIGroup: self = .objectAPIGroup
        case .objectAPIVersion: self = .objectAPIVersion
        case .requestURI: self = .requestURI
        case .responseStatus: self = .responseStatus
        case .responseReason: self = .responseReason
        case .responseMessage: self = .responseMessage
        case .userAgent: self = .userAgent
        case .stage: self = .stage
        case .auditID: self = .auditID
        case .level: self = .level
        case .authorizationDecision: self = .authorizationDecision
        case .authorizationReason: self = .authorizationReason
        case .processName: self = .processName
        case .processExecutable: self = .processExecutable
        case .processArgs: self = .processArgs
        case .processParentName: self = .processParentName
        case .containerID: self = .containerID
        case .containerImage: self = .containerImage
        case .hostOSType: self = .hostOSType
        case .eventType: self = .eventType
        case .eventAction: self = .eventAction
        case .eventCategory: self = .eventCategory
        case .eventKind: self = .eventKind
        case .warnings: self = .warnings
        case .time, .kubernetes, .responseCode, .responseGRPCCode, .processInteractive, .processPID: return nil
        }
    }

    /// Whether any value of the field in `event` satisfies `predicate` (false when it has none).
    @inline(__always)
    func contains(in event: AuditEvent, where predicate: (String) -> Bool) -> Bool {
        @inline(__always) func one(_ value: String?) -> Bool {
            guard let value else { return false }
            return predicate(value)
        }
        switch self {
        case .logType: return predicate(event.logType.rawValue)
        case .cluster: return one(event.cluster)
        case .sourceIP: return one(event.sourceIP)
        case .sourceIPs: return event.containsSourceIP(where: predicate)
        case .userName: return one(event.userName)
        case .userUID: return one(event.userUID)
        case .userGroups: return event.containsUserGroup(where: predicate)
        case .verb: return one(event.verb)
        case .objectResource: return one(event.objectResource)
        case .objectSubresource: return one(event.objectSubresource)
        case .objectNamespace: return one(event.objectNamespace)
        case .objectName: return one(event.objectName)
        case .objectAPIGroup: return one(event.objectAPIGroup)
        case .objectAPIVersion: return one(event.objectAPIVersion)
        case .requestURI: return one(event.requestURI)
        case .responseStatus: return one(event.responseStatus)
        case .responseReason: return one(event.responseReason)
        case .responseMessage: return one(event.responseMessage)
        case .userAgent: return one(event.userAgent)
        case .stage: return one(event.stage)
        case .auditID: return one(event.auditID)
        case .level: return one(event.level)
        case .authorizationDecision: return one(event.authorizationDecision)
        case .authorizationReason: return one(event.authorizationReason)
        case .processName: return one(event.process?.name)
        case .processExecutable: return one(event.process?.executable)
        case .processArgs: return event.process?.args.contains(where: predicate) ?? false
        case .processParentName: return one(event.process?.parentName)
        case .containerID: return one(event.process?.containerID)
        case .containerImage: return one(event.process?.containerImage)
        case .hostOSType: return one(event.process?.hostOSType)
        case .eventType: return event.process?.eventTypes.contains(where: predicate) ?? false
        case .eventAction: return one(event.process?.eventAction)
        case .eventCategory: return event.process?.eventCategories.contains(where: predicate) ?? false
        case .eventKind: return one(event.process?.eventKind)
        case .warnings: return event.warnings.names.contains(where: predicate)
        }
    }
}

/// The normalized fields whose value is an integer.
enum NumberField: Sendable {
    case responseCode, responseGRPCCode, processPID

    init?(_ field: NormalizedField) {
        switch field {
        case .responseCode: self = .responseCode
        case .responseGRPCCode: self = .responseGRPCCode
        case .processPID: self = .processPID
        default: return nil
        }
    }

    @inline(__always)
    func value(in event: AuditEvent) -> Int64? {
        switch self {
        case .responseCode: return event.responseCode.map(Int64.init)
        case .responseGRPCCode: return event.responseGRPCCode.map(Int64.init)
        case .processPID: return event.process?.pid
        }
    }
}

/// The normalized fields whose value is a boolean.
enum FlagField: Sendable {
    case kubernetes, processInteractive

    init?(_ field: NormalizedField) {
        switch field {
        case .kubernetes: self = .kubernetes
        case .processInteractive: self = .processInteractive
        default: return nil
        }
    }

    @inline(__always)
    func value(in event: AuditEvent) -> Bool? {
        switch self {
        case .kubernetes: return event.isKubernetes
        case .processInteractive: return event.process?.interactive
        }
    }
}
