/// The events the generator makes, one type per source, before they are rendered as the
/// JSON a shipper would deliver (``GeneratedEvent/render(into:)``).
enum GeneratedEvent {
    case eks(KubernetesAudit)
    case aks(KubernetesAudit)
    case gke(CloudAuditEntry)
    case process(ProcessExec)

    var cloud: Cloud {
        switch self {
        case .eks: .eks
        case .aks: .aks
        case .gke: .gke
        case .process: .process
        }
    }

    var micros: Int64 {
        switch self {
        case .eks(let e), .aks(let e): e.micros
        case .gke(let e): e.micros
        case .process(let e): e.micros
        }
    }
}

/// An `audit.k8s.io/v1` Event (what EKS and AKS log), with EKS's IAM identity in `user.extra`.
struct KubernetesAudit {
    var micros: Int64
    var auditID: String
    var ip: String
    var user: String
    var uid: String?
    var groups: [String]
    /// EKS: `accessKeyId`, `arn`, `canonicalArn`, `principalId`, `sessionName`.
    var extra: [(String, String)] = []
    var verb: String
    var uri: String
    var code: Int
    var resource: String?
    var namespace: String?
    var name: String?
    var apiGroup: String?
    var agent: String
    var reason: String

    /// The event as JSON (a plain EKS record, or what CloudWatch and Azure wrap in a string).
    func json() -> [UInt8] {
        var w = JSONBytes(capacity: 1400)
        w.raw("{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\"")
        w.field("auditID", auditID)
        w.field("stage", "ResponseComplete")
        w.field("requestURI", uri)
        w.field("verb", verb)
        w.key("user")
        w.raw("{")
        w.field("username", user, first: true)
        if let uid { w.field("uid", uid) }
        w.field("groups", strings: groups)
        if !extra.isEmpty {
            w.key("extra")
            w.raw("{")
            for (i, (k, v)) in extra.enumerated() { w.field(k, strings: [v], first: i == 0) }
            w.raw("}")
        }
        w.raw("}")
        w.field("sourceIPs", strings: [ip])
        w.field("userAgent", agent)
        if let resource {
            w.key("objectRef")
            w.raw("{")
            w.field("resource", resource, first: true)
            if let namespace { w.field("namespace", namespace) }
            if let name { w.field("name", name) }
            if let apiGroup { w.field("apiGroup", apiGroup) }
            w.field("apiVersion", "v1")
            w.raw("}")
        }
        w.key("responseStatus")
        w.raw("{\"metadata\":{}")
        if code >= 400 {
            w.field("status", "Failure")
            w.field("message", "\(resource ?? "path") is forbidden: User \"\(user)\" cannot \(verb) "
                + (resource.map { "resource \"\($0)\"" } ?? "path \"\(uri)\"")
                + (namespace.map { " in the namespace \"\($0)\"" } ?? ""))
            w.field("reason", "Forbidden")
            w.raw(",\"details\":{")
            w.field("kind", resource ?? "", first: true)
            w.raw("}")
        }
        w.raw(",\"code\":")
        w.int(code)
        w.raw("}")
        w.field("requestReceivedTimestamp", Timestamp.rfc3339(micros: micros))
        w.field("stageTimestamp", Timestamp.rfc3339(micros: micros + 4_200))
        w.key("annotations")
        w.raw("{")
        w.field("authorization.k8s.io/decision", code == 403 ? "forbid" : "allow", first: true)
        w.field("authorization.k8s.io/reason", reason)
        if resource == "pods" { w.field("pod-security.kubernetes.io/enforce-policy", "baseline:latest") }
        w.raw("}}")
        return w.bytes
    }
}

/// A Cloud Audit Logs entry for GKE's Kubernetes API (`serviceName` `k8s.io`).
struct CloudAuditEntry {
    var micros: Int64
    var insertID: String
    var operationID: String
    var ip: String
    var principal: String
    var method: String
    var resourceName: String
    var granted: Bool
    var agent: String
    var reason: String
    var cluster: String
    var project: String
    var location: String

    func json() -> [UInt8] {
        var w = JSONBytes(capacity: 1400)
        w.raw("{")
        w.field("insertId", insertID, first: true)
        w.key("labels")
        w.raw("{")
        w.field("authorization.k8s.io/decision", granted ? "allow" : "forbid", first: true)
        w.field("authorization.k8s.io/reason", reason)
        w.raw("}")
        w.field("logName", "projects/\(project)/logs/cloudaudit.googleapis.com%2Fdata_access")
        w.key("operation")
        w.raw("{\"first\":true")
        w.field("id", operationID)
        w.raw(",\"last\":true,\"producer\":\"k8s.io\"}")
        w.key("protoPayload")
        w.raw("{\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\"")
        w.key("authenticationInfo")
        w.raw("{")
        w.field("principalEmail", principal, first: true)
        w.raw("}")
        w.key("authorizationInfo")
        w.raw("[{\"granted\":\(granted)")
        w.field("permission", method)
        w.field("resource", resourceName)
        w.raw("}]")
        w.field("methodName", method)
        w.key("requestMetadata")
        w.raw("{")
        w.field("callerIp", ip, first: true)
        w.field("callerSuppliedUserAgent", agent)
        w.raw("}")
        w.field("resourceName", resourceName)
        w.field("serviceName", "k8s.io")
        w.key("status")
        if granted {
            w.raw("{}")
        } else {
            w.raw("{\"code\":7")
            w.field("message", "PERMISSION_DENIED")
            w.raw("}")
        }
        w.raw("}")
        w.key("resource")
        w.raw("{\"type\":\"k8s_cluster\",\"labels\":{")
        w.field("cluster_name", cluster, first: true)
        w.field("location", location)
        w.field("project_id", project)
        w.raw("}}")
        w.field("severity", granted ? "INFO" : "NOTICE")
        w.field("timestamp", Timestamp.rfc3339(micros: micros))
        w.field("receiveTimestamp", Timestamp.rfc3339(micros: micros + 812_345, digits: 6))
        w.raw("}")
        return w.bytes
    }
}

/// A process exec inside a container, in the Elastic Common Schema (Defend for Containers).
struct ProcessExec {
    var micros: Int64
    var entityID: String
    var pid: Int
    var parentPID: Int
    var name: String
    var args: [String]
    var interactive: Bool
    var parent: String
    var user: String
    var container: String
    var image: String
    var tag: String
    var pod: String
    var namespace: String
    var cluster: String
    var host: String
    var hostIP: String

    func json() -> [UInt8] {
        var w = JSONBytes(capacity: 1400)
        w.raw("{")
        w.field("@timestamp", Timestamp.rfc3339(micros: micros, digits: 3), first: true)
        w.key("agent")
        w.raw("{\"type\":\"endpoint\",\"version\":\"8.13.2\"")
        w.field("id", "a3f1c7d2-5b8e-4f60-9d1a-\(host.suffix(12))")
        w.raw("}")
        w.key("ecs")
        w.raw("{\"version\":\"8.11.0\"}")
        w.key("event")
        w.raw("{\"kind\":\"event\",\"category\":[\"process\"],\"type\":[\"start\"],\"action\":\"exec\"")
        w.field("dataset", "cloud_defend.process")
        w.field("module", "cloud_defend")
        w.field("id", String(entityID.prefix(20)) + "-e")
        w.raw("}")
        w.key("host")
        w.raw("{")
        w.field("name", host, first: true)
        w.field("hostname", host)
        w.field("ip", strings: [hostIP])
        w.raw(",\"os\":{\"type\":\"linux\",\"family\":\"cos\",\"kernel\":\"6.1.85+\",\"name\":\"Container-Optimized OS\"}")
        w.field("architecture", "x86_64")
        w.raw("}")
        w.key("process")
        w.raw("{")
        w.field("entity_id", entityID, first: true)
        w.raw(",\"pid\":")
        w.int(pid)
        w.field("name", name)
        w.field("executable", "/usr/bin/" + name)
        w.field("args", strings: args)
        w.raw(",\"args_count\":")
        w.int(args.count)
        w.field("command_line", args.joined(separator: " "))
        w.field("working_directory", user == "root" ? "/root" : "/home/\(user)")
        w.raw(",\"interactive\":\(interactive)")
        w.key("parent")
        w.raw("{")
        w.field("name", parent, first: true)
        w.raw(",\"pid\":")
        w.int(parentPID)
        w.field("executable", parent == "runc" || parent == "containerd-shim" ? "/usr/local/bin/" + parent : "/bin/" + parent)
        w.raw("}")
        w.key("user")
        w.raw("{\"id\":\(user == "root" ? 0 : 1000)")
        w.field("name", user)
        w.raw("}")
        w.key("group")
        w.raw("{\"id\":\(user == "root" ? 0 : 1000)")
        w.field("name", user)
        w.raw("}}")
        w.key("orchestrator")
        w.raw("{\"resource\":{")
        w.field("name", pod, first: true)
        w.field("type", "pod")
        w.raw("}")
        w.field("namespace", namespace)
        w.raw(",\"cluster\":{")
        w.field("name", cluster, first: true)
        w.raw("}}")
        w.raw(",\"cloud\":{\"provider\":\"gcp\",\"region\":\"europe-west1\",\"availability_zone\":\"europe-west1-b\"")
        w.raw(",\"account\":{\"id\":\"acme-analytics\"},\"machine\":{\"type\":\"e2-standard-8\"}}")
        w.key("container")
        w.raw("{")
        w.field("id", container, first: true)
        w.raw(",\"image\":{")
        w.field("name", image, first: true)
        w.field("tag", strings: [tag])
        w.raw("}}}")
        return w.bytes
    }
}
