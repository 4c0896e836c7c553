/// `audit.k8s.io` Events (EKS, AKS's `properties.log`, self-managed clusters)
/// and the CloudWatch Logs subscription batches EKS ships them in.
extension AuditRecordDecoder {
    enum EventKey: Int {
        case auditID, stage, level, verb, requestURI, userAgent, user, objectRef, responseStatus, annotations
        case requestReceivedTimestamp, stageTimestamp, timestamp, pEventTime, pSourceLabel, sourceIPs
    }
    static let eventKeys = KeySet([
        "auditID", "stage", "level", "verb", "requestURI", "userAgent", "user", "objectRef", "responseStatus",
        "annotations", "requestReceivedTimestamp", "stageTimestamp", "timestamp", "p_event_time",
        "p_source_label", "sourceIPs",
    ])
    enum UserKey: Int { case username, uid, groups }
    static let userKeys = KeySet(["username", "uid", "groups"])
    enum RefKey: Int { case resource, subresource, namespace, name, apiGroup, apiVersion }
    static let refKeys = KeySet(["resource", "subresource", "namespace", "name", "apiGroup", "apiVersion"])
    enum StatusKey: Int { case code, status, reason, message }
    static let statusKeys = KeySet(["code", "status", "reason", "message"])
    enum AnnotationKey: Int { case decision, reason }
    static let annotationKeys = KeySet(["authorization.k8s.io/decision", "authorization.k8s.io/reason"])

    /// Reads the fields of an `audit.k8s.io` Event (v1 or v1beta1), one pass per object.
    func mapKubernetesEvent(_ e: JSONNode, into event: inout AuditEvent) {
        e.pick(Self.eventKeys) { f in mapKubernetesFields(f, into: &event) }
    }

    /// Reads the fields of an `audit.k8s.io` Event from its picked top-level
    /// members (``eventKeys`` at positions 0..<16 of the set they came from).
    func mapKubernetesFields(_ f: PickedFields, into event: inout AuditEvent) {
        event.withFields { mapKubernetesFields(f, into: &$0) }
    }

    /// The same, writing the event's stored fields in place (one uniqueness
    /// check for the whole event instead of one per field).
    private func mapKubernetesFields(_ f: PickedFields, into event: inout AuditEvent.Fields) {
        var w = event.warnings
        var ips: [String] = []
        event.auditID = FieldReader.string(f[EventKey.auditID], &w)
        event.stage = FieldReader.string(f[EventKey.stage], &w)
        event.level = FieldReader.string(f[EventKey.level], &w)
        event.verb = FieldReader.string(f[EventKey.verb], &w)
        event.requestURI = FieldReader.string(f[EventKey.requestURI], &w, strings)
        event.userAgent = FieldReader.string(f[EventKey.userAgent], &w, strings)
        if event.verb == nil { w.insert(.missingField) }

        if let user = FieldReader.object(f[EventKey.user], &w) {
            user.pick(Self.userKeys) { u in
                event.user.name = FieldReader.string(u[UserKey.username], &w, strings)
                event.user.uid = FieldReader.string(u[UserKey.uid], &w, strings)
                event.user.groups = FieldReader.strings(u[UserKey.groups], &w, strings)
            }
        }
        if event.user.name == nil { w.insert(.missingField) }

        if let ref = FieldReader.object(f[EventKey.objectRef], &w) {
            ref.pick(Self.refKeys) { r in
                event.object.resource = FieldReader.string(r[RefKey.resource], &w)
                event.object.subresource = FieldReader.string(r[RefKey.subresource], &w)
                event.object.namespace = FieldReader.string(r[RefKey.namespace], &w, strings)
                event.object.name = FieldReader.string(r[RefKey.name], &w, strings)
                event.object.apiGroup = FieldReader.string(r[RefKey.apiGroup], &w)
                event.object.apiVersion = FieldReader.string(r[RefKey.apiVersion], &w)
            }
        }

        if let status = FieldReader.object(f[EventKey.responseStatus], &w) {
            status.pick(Self.statusKeys) { s in
                event.response.code = FieldReader.int(s[StatusKey.code], &w)
                event.response.status = FieldReader.string(s[StatusKey.status], &w)
                event.response.reason = FieldReader.string(s[StatusKey.reason], &w)
                event.response.message = FieldReader.string(s[StatusKey.message], &w, strings)
            }
        }

        if let annotations = FieldReader.object(f[EventKey.annotations], &w) {
            annotations.pick(Self.annotationKeys) { a in
                event.authorization.decision = FieldReader.string(a[AnnotationKey.decision], &w)
                event.authorization.reason = FieldReader.string(a[AnnotationKey.reason], &w, strings)
            }
        }

        event.time = FieldReader.time(f[EventKey.requestReceivedTimestamp], &w)
            ?? FieldReader.time(f[EventKey.stageTimestamp], &w)
            ?? FieldReader.time(f[EventKey.timestamp], &w)
            ?? FieldReader.time(f[EventKey.pEventTime], &w)
        if event.time != nil { w.remove(.invalidTime) }
        // The topic's configured label first, then Panther's source label.
        event.cluster = options.clusterLabel ?? FieldReader.string(f[EventKey.pSourceLabel], &w, strings)
        ips = FieldReader.strings(f[EventKey.sourceIPs], &w, strings)
        event.warnings = w
        FieldReader.sourceIPs(ips, into: &event, strings)
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
            switch inner.parse(UnsafeRawBufferPointer(bytes)) {
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
                var event = makeEvent(logType, raw: Array(bytes))
                mapKubernetesEvent(document, into: &event)
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
