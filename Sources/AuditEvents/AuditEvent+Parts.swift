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
