/// `audit.k8s.io` Events (EKS, AKS's `properties.log`, self-managed clusters)
/// and the CloudWatch Logs subscription batches EKS ships them in.
extension AuditRecordDecoder {
    /// Reads the fields of an `audit.k8s.io` Event (v1 or v1beta1).
    func mapKubernetesEvent(_ e: JSONNode, into event: inout AuditEvent) {
        var w = event.warnings
        event.auditID = FieldReader.string(e.field("auditID"), &w)
        event.stage = FieldReader.string(e.field("stage"), &w)
        event.level = FieldReader.string(e.field("level"), &w)
        event.verb = FieldReader.string(e.field("verb"), &w)
        event.requestURI = FieldReader.string(e.field("requestURI"), &w)
        event.userAgent = FieldReader.string(e.field("userAgent"), &w)
        if event.verb == nil { w.insert(.missingField) }

        if let user = e.field("user") {
            if user.kind == .object {
                event.user.name = FieldReader.string(user.field("username"), &w)
                event.user.uid = FieldReader.string(user.field("uid"), &w)
                event.user.groups = FieldReader.strings(user.field("groups"), &w)
            } else if !user.isNull {
                w.insert(.wrongType)
            }
        }
        if event.user.name == nil { w.insert(.missingField) }

        if let ref = e.field("objectRef") {
            if ref.kind == .object {
                event.object.resource = FieldReader.string(ref.field("resource"), &w)
                event.object.subresource = FieldReader.string(ref.field("subresource"), &w)
                event.object.namespace = FieldReader.string(ref.field("namespace"), &w)
                event.object.name = FieldReader.string(ref.field("name"), &w)
                event.object.apiGroup = FieldReader.string(ref.field("apiGroup"), &w)
                event.object.apiVersion = FieldReader.string(ref.field("apiVersion"), &w)
            } else if !ref.isNull {
                w.insert(.wrongType)
            }
        }

        if let status = e.field("responseStatus") {
            if status.kind == .object {
                event.response.code = FieldReader.int(status.field("code"), &w)
                event.response.status = FieldReader.string(status.field("status"), &w)
                event.response.reason = FieldReader.string(status.field("reason"), &w)
                event.response.message = FieldReader.string(status.field("message"), &w)
            } else if !status.isNull {
                w.insert(.wrongType)
            }
        }

        if let annotations = e.field("annotations") {
            if annotations.kind == .object {
                event.authorization.decision = FieldReader.string(annotations.field("authorization.k8s.io/decision"), &w)
                event.authorization.reason = FieldReader.string(annotations.field("authorization.k8s.io/reason"), &w)
            } else if !annotations.isNull {
                w.insert(.wrongType)
            }
        }

        event.time = FieldReader.time(e.field("requestReceivedTimestamp"), &w)
            ?? FieldReader.time(e.field("stageTimestamp"), &w)
            ?? FieldReader.time(e.field("timestamp"), &w)
            ?? FieldReader.time(e.field("p_event_time"), &w)
        if event.time != nil { w.remove(.invalidTime) }
        // The topic's configured label first, then Panther's source label.
        event.cluster = options.clusterLabel ?? FieldReader.string(e.field("p_source_label"), &w)

        event.warnings = w
        FieldReader.sourceIPs(FieldReader.strings(e.field("sourceIPs"), &event.warnings), into: &event)
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
