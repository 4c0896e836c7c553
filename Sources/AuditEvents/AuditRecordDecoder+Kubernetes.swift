import CSimdJSON

/// `audit.k8s.io` Events (EKS, AKS's `properties.log`, self-managed clusters)
/// and the CloudWatch Logs subscription batches EKS ships them in.
extension AuditRecordDecoder {
    /// Positions in ``eventTree`` (and, at the same positions, in ``autoTree``).
    enum EventKey: Int {
        case auditID, stage, level, verb, requestURI, userAgent, user, objectRef, responseStatus, annotations
        case requestReceivedTimestamp, stageTimestamp, timestamp, pEventTime, pSourceLabel, sourceIPs
        case userName, userUID, userGroups
        case resource, subresource, namespace, name, apiGroup, apiVersion
        case code, status, reason, message
        case decision, authorizationReason
    }
    /// An audit Event's members and the members of its `user`, `objectRef`,
    /// `responseStatus` and `annotations`, picked in one walk.
    static let eventTreeKeys: [(name: StaticString, parent: Int?)] = [
        ("auditID", nil), ("stage", nil), ("level", nil), ("verb", nil), ("requestURI", nil), ("userAgent", nil),
        ("user", nil), ("objectRef", nil), ("responseStatus", nil), ("annotations", nil),
        ("requestReceivedTimestamp", nil), ("stageTimestamp", nil), ("timestamp", nil), ("p_event_time", nil),
        ("p_source_label", nil), ("sourceIPs", nil),
        ("username", EventKey.user.rawValue), ("uid", EventKey.user.rawValue), ("groups", EventKey.user.rawValue),
        ("resource", EventKey.objectRef.rawValue), ("subresource", EventKey.objectRef.rawValue),
        ("namespace", EventKey.objectRef.rawValue), ("name", EventKey.objectRef.rawValue),
        ("apiGroup", EventKey.objectRef.rawValue), ("apiVersion", EventKey.objectRef.rawValue),
        ("code", EventKey.responseStatus.rawValue), ("status", EventKey.responseStatus.rawValue),
        ("reason", EventKey.responseStatus.rawValue), ("message", EventKey.responseStatus.rawValue),
        ("authorization.k8s.io/decision", EventKey.annotations.rawValue),
        ("authorization.k8s.io/reason", EventKey.annotations.rawValue),
    ]
    static let eventTree = PickTree(eventTreeKeys)
    static let userSpec = PartSpec([
        (EventKey.userName, VJ_KEY_STRING), (EventKey.userUID, VJ_KEY_STRING), (EventKey.userGroups, VJ_KEY_STRINGS),
    ])
    static let objectSpec = PartSpec([
        (EventKey.resource, VJ_KEY_STRING), (EventKey.subresource, VJ_KEY_STRING), (EventKey.namespace, VJ_KEY_STRING),
        (EventKey.apiGroup, VJ_KEY_STRING), (EventKey.apiVersion, VJ_KEY_STRING),
    ])
    static let responseSpec = PartSpec([
        (EventKey.code, VJ_KEY_INT), (EventKey.status, VJ_KEY_STRING), (EventKey.reason, VJ_KEY_STRING),
        (EventKey.message, VJ_KEY_STRING),
    ])
    static let authorizationSpec = PartSpec([
        (EventKey.decision, VJ_KEY_STRING), (EventKey.authorizationReason, VJ_KEY_STRING),
    ])
    static let requestSpec = PartSpec([
        (EventKey.verb, VJ_KEY_STRING), (EventKey.userAgent, VJ_KEY_STRING), (EventKey.stage, VJ_KEY_STRING),
        (EventKey.level, VJ_KEY_STRING),
    ])
    static let sourceIPsSpec = PartSpec([(EventKey.sourceIPs, VJ_KEY_STRINGS)])
    /// Every member of the parts above but the source IPs, for the combined
    /// lookup; its parts in this order (``eventParts(_:_:_:)``). The request
    /// URI and the object's name are in no part: they are the event's own,
    /// so a stream of distinct requests by the same users and agents on the
    /// same kinds of objects still finds its parts cached.
    static let eventPartsSpec = PartSpec(concatenating: [
        requestSpec, userSpec, objectSpec, responseSpec, authorizationSpec,
    ])

    /// A new event read from an `audit.k8s.io` Event (v1 or v1beta1) in one walk.
    func kubernetesEvent(_ logType: LogType, raw: consuming RawJSON, document e: JSONNode) -> AuditEvent {
        let picked = pickScratch.begin(e, statics.eventTree)
        defer { pickScratch.end(picked) }
        return kubernetesEvent(logType, raw: raw, picked.fields)
    }

    /// A new event read from an `audit.k8s.io` Event's picked members
    /// (``eventTree``'s positions, also the first positions of ``autoTree``),
    /// its stored fields built at once: written over a new event's defaults,
    /// each event retained and released the empty parts and released every
    /// default it replaced.
    func kubernetesEvent(_ logType: LogType, raw: consuming RawJSON, _ f: PickedFields) -> AuditEvent {
        var w = DecodeWarnings()
        let strings = self.strings
        let parts = self.parts
        // The two part-cache entries this event looks up are requested from
        // memory first, and looked up after the event's own fields are read
        // (their tables are too large to stay in the CPU's nearest caches).
        // The source IPs are keyed apart (the same user, object and request
        // come from many addresses); the parts that repeat across events are
        // keyed together: their keys are written once, one after another, and
        // together they are the combined key. (The source IPs' key, in the
        // other region of the scratch buffer, stays intact: the parts'
        // lookups below write no key.) A list of one short address (most
        // lists) is looked up by the address alone (``AddressCache``).
        let address = f[EventKey.sourceIPs]?.singleShortString.map(parts.addresses.prefetch)
        let ipLookup = parts.lists.prefetch(address != nil ? PartKey.unusable : parts.key(f, statics.sourceIPsSpec))
        let keys = parts.keys(f, statics.eventPartsSpec)
        let allLookup = parts.events.prefetch(Self.hasPlainContainers(f) ? keys.all : PartKey.unusable)

        let auditID = FieldReader.inlineText(f[EventKey.auditID], &w)
        let requestURI = FieldReader.string(f[EventKey.requestURI], &w, strings)
        let objectName = FieldReader.string(f[EventKey.name], &w, strings)

        // The parts from the part caches: all of them in one lookup when this
        // combination was seen before, else one lookup per part, and field by
        // field (with its warning) for a member of an unexpected type.
        let all = !parts.enabled ? Shared(eventParts(f, keys, &w)) : parts.events.part(allLookup, &w) {
            eventParts(f, keys, &$0)
        }
        w.formUnion(all.value.derivedWarnings)
        let ips = address.map(parts.addresses.list) ?? parts.lists.value(ipLookup, &w) { w in
            FieldReader.sourceIPList(f[EventKey.sourceIPs], &w, strings)
        }
        w.formUnion(ips.warnings)

        let time = FieldReader.time(f[EventKey.requestReceivedTimestamp], &w)
            ?? FieldReader.time(f[EventKey.stageTimestamp], &w)
            ?? FieldReader.time(f[EventKey.timestamp], &w)
            ?? FieldReader.time(f[EventKey.pEventTime], &w)
        if time != nil { w.remove(.invalidTime) }
        // The topic's configured label first, then Panther's source label.
        let cluster = options.clusterLabel ?? FieldReader.string(f[EventKey.pSourceLabel], &w, strings)
        // `raw` is consumed (the caller's value moves into the event): borrowed, it was
        // retained here and released by the caller, one pair per event.
        return AuditEvent(AuditEvent.Fields(
            logType: logType, time: time, cluster: cluster, isKubernetes: true,
            parts: all,  // moved: one retain (the cache's hit) per event, not two
            sourceIPs: ips.ips, auditID: auditID, requestURI: requestURI, objectName: objectName, warnings: w,
            raw: raw))
    }

    /// True when `user`, `objectRef`, `responseStatus` and `annotations` are
    /// each an object, null or absent (no warning to give for them).
    private static func hasPlainContainers(_ f: PickedFields) -> Bool {
        func plain(_ key: EventKey) -> Bool {
            guard let node = f[key] else { return true }
            return node.kind == .object || node.kind == .null
        }
        return plain(.user) && plain(.objectRef) && plain(.responseStatus) && plain(.annotations)
    }

    /// The parts one by one, through their part caches (`keys`: the keys of
    /// ``eventPartsSpec``'s parts).
    private func eventParts(_ f: PickedFields, _ keys: PartKeys, _ w: inout DecodeWarnings) -> EventParts {
        let parts = self.parts
        var out = statics.noParts.value
        out.request = parts.requests.part(keys[0], &w) { requestPart(f, &$0) }
        if FieldReader.object(f[EventKey.user], &w) != nil {
            out.user = parts.users.part(keys[1], &w) { userPart(f, &$0) }
        }
        if FieldReader.object(f[EventKey.objectRef], &w) != nil {
            out.object = parts.objects.part(keys[2], &w) { objectPart(f, &$0) }
        }
        if FieldReader.object(f[EventKey.responseStatus], &w) != nil {
            out.response = parts.responses.part(keys[3], &w) { responsePart(f, &$0) }
        }
        if FieldReader.object(f[EventKey.annotations], &w) != nil {
            out.authorization = parts.authorizations.part(keys[4], &w) { authorizationPart(f, &$0) }
        }
        if out.request.value.verb == nil { out.derivedWarnings.insert(.missingField) }
        if out.user.value.name == nil { out.derivedWarnings.insert(.missingField) }
        return out
    }

    /// The parts of an event, from its picked members, field by field.
    private func requestPart(_ f: PickedFields, _ w: inout DecodeWarnings) -> RequestLine {
        RequestLine(
            verb: FieldReader.string(f[EventKey.verb], &w, strings),
            userAgent: FieldReader.string(f[EventKey.userAgent], &w, strings),
            stage: FieldReader.string(f[EventKey.stage], &w, strings),
            level: FieldReader.string(f[EventKey.level], &w, strings))
    }

    private func userPart(_ f: PickedFields, _ w: inout DecodeWarnings) -> UserInfo {
        UserInfo(
            name: FieldReader.string(f[EventKey.userName], &w, strings),
            uid: FieldReader.string(f[EventKey.userUID], &w, strings),
            groups: FieldReader.strings(f[EventKey.userGroups], &w, strings))
    }

    private func objectPart(_ f: PickedFields, _ w: inout DecodeWarnings) -> ObjectReference {
        var object = ObjectReference()
        object.resource = FieldReader.string(f[EventKey.resource], &w, strings)
        object.subresource = FieldReader.string(f[EventKey.subresource], &w, strings)
        object.namespace = FieldReader.string(f[EventKey.namespace], &w, strings)
        object.apiGroup = FieldReader.string(f[EventKey.apiGroup], &w, strings)
        object.apiVersion = FieldReader.string(f[EventKey.apiVersion], &w, strings)
        return object
    }

    private func responsePart(_ f: PickedFields, _ w: inout DecodeWarnings) -> ResponseStatus {
        var response = ResponseStatus()
        response.code = FieldReader.int(f[EventKey.code], &w)
        response.status = FieldReader.string(f[EventKey.status], &w, strings)
        response.reason = FieldReader.string(f[EventKey.reason], &w, strings)
        response.message = FieldReader.string(f[EventKey.message], &w, strings)
        return response
    }

    private func authorizationPart(_ f: PickedFields, _ w: inout DecodeWarnings) -> AuthorizationAnnotations {
        var annotations = AuthorizationAnnotations()
        annotations.decision = FieldReader.string(f[EventKey.decision], &w, strings)
        annotations.reason = FieldReader.string(f[EventKey.authorizationReason], &w, strings)
        return annotations
    }

    /// A CloudWatch Logs subscription batch: `DATA_MESSAGE` yields one outcome
    /// per `logEvents[]` entry, `CONTROL_MESSAGE` one skip.
    func decodeCloudWatch(_ root: JSONNode, into outcomes: inout [DecodeOutcome]) {
        guard let type = root.field("messageType"), type.kind == .string else {
            outcomes.append(.deadLetter(DecodeIssue(.wrongType, "messageType is not a string")))
            return
        }
        if type.stringEquals("CONTROL_MESSAGE") {
            outcomes.append(.skipped(DecodeIssue(.controlMessage, "CloudWatch Logs CONTROL_MESSAGE")))
            return
        }
        guard type.stringEquals("DATA_MESSAGE") else {
            outcomes.append(.deadLetter(DecodeIssue(
                .unrecognizedFormat, "unknown CloudWatch messageType \(type.string ?? "")")))
            return
        }
        guard let logEvents = root.field("logEvents") else {
            outcomes.append(.deadLetter(DecodeIssue(.missingField, "DATA_MESSAGE has no logEvents")))
            return
        }
        guard logEvents.kind == .array else {
            outcomes.append(.deadLetter(DecodeIssue(.wrongType, "logEvents is not an array")))
            return
        }
        let cluster = root.field("logGroup")?.string.flatMap(Self.eksCluster(fromLogGroup:))
        let logType: LogType = format == .kubernetes ? .kubernetesAudit : .eksAudit
        var position = 0
        logEvents.forEachElement { entry in
            defer { position += 1 }
            guard let message = entry.field("message"), let bytes = message.stringBytes else {
                outcomes.append(.deadLetter(DecodeIssue(
                    .missingField, "logEvents[\(position)] has no message string", position: position)))
                return
            }
            switch inner.parse(embedded: message) {
            case .failed(let failure):
                var issue = Self.issue(for: failure, what: "logEvents[\(position)].message", position: position)
                if issue.reason == .malformedJSON { issue.reason = .embeddedLogNotJSON }
                outcomes.append(.deadLetter(issue))
            case .parsed(let document):
                guard document.kind == .object else {
                    outcomes.append(.deadLetter(DecodeIssue(
                        .embeddedLogNotJSON, "logEvents[\(position)].message is not a JSON object",
                        position: position)))
                    return
                }
                var event = kubernetesEvent(logType, raw: rawJSON(Array(bytes)), document: document)
                if event.time == nil, let ms = entry.field("timestamp")?.int64 {
                    event.time = EventTime(milliseconds: ms)
                    event.warnings.remove(.invalidTime)
                }
                if event.cluster == nil { event.cluster = cluster }
                finish(&event, document: document, envelope: nil)
                outcomes.append(.decoded(event))
            }
        }
        if position == 0 {
            outcomes.append(.skipped(DecodeIssue(.emptyBatch, "DATA_MESSAGE with no logEvents")))
        }
    }

    /// `/aws/eks/<cluster>/cluster` → `<cluster>`.
    static func eksCluster(fromLogGroup group: String) -> String? {
        let parts = group.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[0] == "aws", parts[1] == "eks" else { return nil }
        return String(parts[2])
    }
}
