/// One normalized event, whatever cloud or log it came from. Pure data: no
/// Kafka, no I/O. Fields a source does not have are nil or empty.
public struct AuditEvent: Sendable, Hashable {
    public var logType: LogType
    /// The event's own time; nil when the record had none (`warnings` says so).
    public var time: EventTime?
    /// EKS: the configured label or `p_source_label` (or the CloudWatch log
    /// group's cluster); AKS: the cluster in `resourceId`; GKE:
    /// `resource.labels.cluster_name`; process: `orchestrator.cluster.name`.
    public var cluster: String?
    /// False for GCP entries of services other than `k8s.io` and for process events.
    public var isKubernetes: Bool
    /// All source IPs, in order, as written (GKE: `callerIp`).
    public var sourceIPs: [String]
    public var user: UserInfo
    /// Kubernetes verb (GKE: the last part of `methodName`).
    public var verb: String?
    public var object: ObjectReference
    /// Request URI (GKE has none: built from `resourceName`, see the GKE decoder).
    public var requestURI: String?
    public var response: ResponseStatus
    public var userAgent: String?
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic`.
    public var stage: String?
    /// `auditID` (GKE: `operation.id`, else `insertId`).
    public var auditID: String?
    /// Audit policy level (`Metadata`, `Request`, `RequestResponse`).
    public var level: String?
    public var authorization: AuthorizationAnnotations
    /// Process fields; nil for audit events.
    public var process: ProcessDetails?
    public var warnings: DecodeWarnings
    /// The decoded document; read any field with ``RawJSON/value(at:)``.
    public var raw: RawJSON
    /// The record around `raw` when there is one (the AKS diagnostic record).
    public var envelope: RawJSON?
    /// Values of ``DecoderOptions/extractedPaths``, in the same order.
    public var extracted: [JSONValue?]

    /// The first source IP: the one threshold keys and GeoIP use.
    public var sourceIP: String? { sourceIPs.first }

    public init(logType: LogType, raw: RawJSON = RawJSON([UInt8]())) {
        self.logType = logType
        self.time = nil
        self.cluster = nil
        self.isKubernetes = logType != .ecsProcess
        self.sourceIPs = []
        self.user = UserInfo()
        self.verb = nil
        self.object = ObjectReference()
        self.requestURI = nil
        self.response = ResponseStatus()
        self.userAgent = nil
        self.stage = nil
        self.auditID = nil
        self.level = nil
        self.authorization = AuthorizationAnnotations()
        self.process = nil
        self.warnings = []
        self.raw = raw
        self.envelope = nil
        self.extracted = []
    }

    /// A raw field of the event by dotted path; the envelope is searched when
    /// the document has no such field.
    public func rawValue(at path: FieldPath) -> JSONValue? {
        raw.value(at: path) ?? envelope?.value(at: path)
    }
}

/// Who made the request.
public struct UserInfo: Sendable, Hashable {
    /// `user.username` (GKE: `principalEmail`; process: the process user).
    public var name: String?
    public var uid: String?
    public var groups: [String]

    public init(name: String? = nil, uid: String? = nil, groups: [String] = []) {
        self.name = name
        self.uid = uid
        self.groups = groups
    }
}

/// What the request was about (`objectRef`; GKE: parsed from `resourceName`).
public struct ObjectReference: Sendable, Hashable {
    public var resource: String?
    public var subresource: String?
    public var namespace: String?
    public var name: String?
    /// "" for the core group when the source says so; nil when absent.
    public var apiGroup: String?
    public var apiVersion: String?

    public init() {}
}

/// The response (`responseStatus`; GKE: `status`).
public struct ResponseStatus: Sendable, Hashable {
    /// HTTP status code (GKE: mapped from gRPC; absent status means 200).
    public var code: Int?
    /// `Success` / `Failure` (GKE: derived from the code).
    public var status: String?
    /// `Forbidden`, ... (GKE: the gRPC code name, e.g. `PERMISSION_DENIED`).
    public var reason: String?
    public var message: String?
    /// GKE only: the original gRPC `status.code`; nil when absent.
    public var grpcCode: Int?

    public init() {}
}

/// The `authorization.k8s.io/decision` and `/reason` annotations
/// (GKE: the entry's `labels`).
public struct AuthorizationAnnotations: Sendable, Hashable {
    /// `allow` or `forbid`.
    public var decision: String?
    public var reason: String?

    public init() {}
}

/// Fields of a process event (ECS names in the comments).
public struct ProcessDetails: Sendable, Hashable {
    /// `process.name`
    public var name: String?
    /// `process.executable`
    public var executable: String?
    /// `process.args`
    public var args: [String]
    /// `process.interactive`; nil when absent.
    public var interactive: Bool?
    /// `process.pid`
    public var pid: Int64?
    /// `process.parent.name`
    public var parentName: String?
    /// `container.id`
    public var containerID: String?
    /// `container.image.name`
    public var containerImage: String?
    /// `host.os.type`
    public var hostOSType: String?
    /// `event.type` (ECS makes it a list).
    public var eventTypes: [String]
    /// `event.action`
    public var eventAction: String?
    /// `event.category`
    public var eventCategories: [String]
    /// `event.kind`
    public var eventKind: String?
    /// `orchestrator.namespace`
    public var podNamespace: String?
    /// `orchestrator.resource.name`
    public var podName: String?

    public init() {
        self.args = []
        self.eventTypes = []
        self.eventCategories = []
    }
}
