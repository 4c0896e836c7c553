/// The cast of the background traffic: who calls which API from where, per cloud, and the
/// address pools (offices and CI on public addresses, attackers apart from them).
struct Catalog {
    static let aksResourceID = "/SUBSCRIPTIONS/6F1C2A7E-3B1D-4C55-9A0E-2D8F3B7C1E90/RESOURCEGROUPS/RG-PAYMENTS"
        + "/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PAYMENTS-WEU"
    static let account = "613298554017"
    static let kubectl = "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"
    /// First octets of public IPv4 space with no special-use ranges inside.
    static let publicOctets = [5, 23, 31, 37, 45, 46, 62, 77, 78, 79, 80, 81, 82, 84, 85, 88, 89, 91, 92, 93, 94,
                               95, 176, 178, 185, 188, 193, 194, 195, 212, 213, 217]

    /// A Kubernetes API call as a template: the event is filled in per occurrence.
    struct Call {
        var user: String
        var groups: [String]
        var verb: String
        var uri: String
        var resource: String?
        var namespace: String?
        var name: String?
        var apiGroup: String?
        var agent: String
        var code = 200
        var iam: String?  // EKS: the IAM role session behind the user
    }

    let logStreams: [String]
    let apiServerContainer: String
    let apiServerPod: String
    /// Public addresses of offices, VPN egress and CI runners (benign, never Tor).
    let offices: [String]
    let torExits: Set<String>
    /// Addresses already given to attackers or offices.
    var taken: Set<String>

    init(random: inout SplitMix64, torExits: Set<String>) {
        logStreams = (0..<4).map { _ in "kube-apiserver-audit-" + random.hex(32) }
        apiServerContainer = random.hex(64)
        apiServerPod = "kube-apiserver-" + random.hex(10) + "-" + random.hex(5)
        self.torExits = torExits
        var taken = Set<String>()
        var offices: [String] = []
        while offices.count < 64 {
            let ip = Self.publicAddress(&random)
            if !torExits.contains(ip), taken.insert(ip).inserted { offices.append(ip) }
        }
        self.offices = offices
        self.taken = taken
    }

    static func publicAddress(_ random: inout SplitMix64) -> String {
        "\(random.pick(publicOctets)).\(random.below(256)).\(random.below(256)).\(1 + random.below(254))"
    }

    /// A fresh public address for an attacker: not an office, not a Tor exit, not used before.
    mutating func attacker(_ random: inout SplitMix64, accept: ((String) -> Bool)? = nil) -> String {
        while true {
            let ip = Self.publicAddress(&random)
            if torExits.contains(ip) || taken.contains(ip) { continue }
            if let accept, !accept(ip) { continue }
            taken.insert(ip)
            return ip
        }
    }

    // MARK: benign traffic

    static let eksCalls: [Call] = [
        Call(user: "system:serviceaccount:kube-system:replicaset-controller",
             groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
             verb: "list", uri: "/apis/apps/v1/replicasets?resourceVersion=0", resource: "replicasets", apiGroup: "apps",
             agent: "kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/system:serviceaccount:kube-system:replicaset-controller"),
        Call(user: "system:node:ip-10-0-3-41.eu-west-1.compute.internal", groups: ["system:nodes", "system:authenticated"],
             verb: "get", uri: "/api/v1/namespaces/shop/pods/cart-5d7f9c-8kq2x", resource: "pods", namespace: "shop",
             name: "cart-5d7f9c-8kq2x", agent: "kubelet/v1.30.2 (linux/amd64) kubernetes/3968350"),
        Call(user: "system:kube-scheduler", groups: ["system:authenticated"], verb: "update",
             uri: "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler", resource: "leases",
             namespace: "kube-system", name: "kube-scheduler", apiGroup: "coordination.k8s.io",
             agent: "kube-scheduler/v1.30.2 (linux/amd64) kubernetes/3968350/leader-election"),
        Call(user: "system:serviceaccount:argocd:argocd-application-controller",
             groups: ["system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"],
             verb: "watch", uri: "/apis/apps/v1/deployments?allowWatchBookmarks=true&resourceVersion=48213377&watch=true",
             resource: "deployments", apiGroup: "apps", agent: "argocd-application-controller/v2.11.3 (linux/amd64)"),
        Call(user: "system:serviceaccount:kube-system:aws-node",
             groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
             verb: "get", uri: "/api/v1/nodes/ip-10-0-7-112.eu-west-1.compute.internal", resource: "nodes",
             name: "ip-10-0-7-112.eu-west-1.compute.internal", agent: "aws-vpc-cni/v1.18.2 (linux/amd64)"),
        Call(user: "system:serviceaccount:monitoring:prometheus",
             groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"],
             verb: "list", uri: "/api/v1/namespaces/kube-system/secrets", resource: "secrets", namespace: "kube-system",
             agent: "prometheus/2.53.0", code: 403),
    ]

    static let eksPeople: [Call] = [
        Call(user: "arn:aws:sts::613298554017:assumed-role/platform-admins/maria", groups: ["system:masters", "system:authenticated"],
             verb: "list", uri: "/api/v1/namespaces/shop/pods?limit=500", resource: "pods", namespace: "shop",
             agent: kubectl, iam: "platform-admins/maria"),
        Call(user: "arn:aws:sts::613298554017:assumed-role/developers/li.wei", groups: ["developers", "system:authenticated"],
             verb: "get", uri: "/apis/apps/v1/namespaces/shop/deployments/cart", resource: "deployments", namespace: "shop",
             name: "cart", apiGroup: "apps", agent: kubectl, iam: "developers/li.wei"),
        Call(user: "arn:aws:sts::613298554017:assumed-role/github-actions/deploy", groups: ["deployers", "system:authenticated"],
             verb: "patch", uri: "/apis/apps/v1/namespaces/shop/deployments/checkout?fieldManager=kubectl-client-side-apply",
             resource: "deployments", namespace: "shop", name: "checkout", apiGroup: "apps",
             agent: "kubectl/v1.29.4 (linux/amd64) kubernetes/55fde08", iam: "github-actions/deploy"),
    ]

    static let aksCalls: [Call] = [
        Call(user: "aksService", groups: ["system:masters", "system:authenticated"], verb: "get",
             uri: "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status", resource: "configmaps",
             namespace: "kube-system", name: "cluster-autoscaler-status", agent: "cluster-autoscaler/v1.29.0 (linux/amd64)"),
        Call(user: "system:serviceaccount:kube-system:coredns",
             groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
             verb: "watch", uri: "/api/v1/endpoints?allowWatchBookmarks=true&resourceVersion=19200456&watch=true",
             resource: "endpoints", agent: "coredns/v1.11.1 (linux/amd64) kubernetes/v1.29.0"),
        Call(user: "system:serviceaccount:payments:ledger",
             groups: ["system:serviceaccounts", "system:serviceaccounts:payments", "system:authenticated"],
             verb: "list", uri: "/api/v1/namespaces/payments/configmaps", resource: "configmaps", namespace: "payments",
             agent: "ledger/3.4.1 (linux/amd64) kubernetes-client/java"),
        Call(user: "system:node:aks-nodepool1-28461730-vmss000002", groups: ["system:nodes", "system:authenticated"],
             verb: "patch", uri: "/api/v1/nodes/aks-nodepool1-28461730-vmss000002/status", resource: "nodes",
             name: "aks-nodepool1-28461730-vmss000002", agent: "kubelet/v1.29.4 (linux/amd64) kubernetes/55fde08"),
    ]

    static let aksPeople: [Call] = [
        Call(user: "alice@acme.onmicrosoft.com", groups: ["6b7c2d3e-8f90-4a1b-9c2d-3e4f5a6b7c8d", "system:authenticated"],
             verb: "get", uri: "/api/v1/namespaces/payments/pods/ledger-6f7d9c-2xk8p/log?container=ledger&tailLines=200",
             resource: "pods", namespace: "payments", name: "ledger-6f7d9c-2xk8p", agent: kubectl),
    ]

    static let gkeControllers = [
        ("system:serviceaccount:kube-system:replicaset-controller", "io.k8s.apps.v1.replicasets.list", "apps/v1/replicasets"),
        ("system:kube-controller-manager", "io.k8s.coordination.v1.leases.update",
         "coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager"),
        ("system:serviceaccount:analytics:spark-operator", "io.k8s.core.v1.pods.create",
         "core/v1/namespaces/analytics/pods/spark-etl-7f3c-driver"),
    ]

    static let gkePeople = [
        ("ci-deployer@acme-analytics.iam.gserviceaccount.com", "io.k8s.apps.v1.deployments.patch",
         "apps/v1/namespaces/analytics/deployments/notebook", "google-cloud-sdk gcloud/480.0.0 command/gcloud.container.clusters.get-credentials"),
        ("jordan@acme.com", "io.k8s.core.v1.pods.list", "core/v1/namespaces/analytics/pods", kubectl),
    ]

    static let benignExecs: [(String, [String], String)] = [
        ("nginx", ["nginx", "-g", "daemon off;"], "containerd-shim"),
        ("python3", ["python3", "/app/worker.py", "--queue", "etl"], "containerd-shim"),
        ("sh", ["sh", "-c", "/healthcheck.sh"], "runc"),
        ("java", ["java", "-Xmx2g", "-jar", "/opt/spark/jars/spark-etl.jar"], "containerd-shim"),
    ]

    /// One background event of `cloud` at `time`.
    func benign(_ cloud: Cloud, at time: Int64, random: inout SplitMix64) -> GeneratedEvent {
        switch cloud {
        case .eks:
            let person = random.below(5) == 0
            let call = person ? random.pick(Self.eksPeople) : random.pick(Self.eksCalls)
            let ip = person ? random.pick(offices) : "10.0.\(1 + random.below(9)).\(2 + random.below(249))"
            return .eks(audit(call, ip: ip, at: time, random: &random))
        case .aks:
            let person = random.below(8) == 0
            let call = person ? random.pick(Self.aksPeople) : random.pick(Self.aksCalls)
            let ip = person ? random.pick(offices) : "172.31.\(random.below(61)).\(2 + random.below(249))"
            return .aks(audit(call, ip: ip, at: time, random: &random))
        case .gke:
            if random.below(4) == 0 {
                let (who, method, resource, agent) = random.pick(Self.gkePeople)
                return .gke(gke(at: time, ip: random.pick(offices), principal: who, method: method,
                                resource: resource, agent: agent, random: &random))
            }
            let (who, method, resource) = random.pick(Self.gkeControllers)
            return .gke(gke(at: time, ip: "10.128.0.\(2 + random.below(249))", principal: who, method: method,
                            resource: resource, agent: "kube-controller-manager/v1.30.1 (linux/amd64) kubernetes/9e4d2f3",
                            random: &random))
        case .process:
            let (name, args, parent) = random.pick(Self.benignExecs)
            let node = random.below(6)
            return .process(exec(at: time, name: name, args: args, interactive: false, parent: parent,
                                 container: Self.workerContainers[node], image: "europe-docker.pkg.dev/acme/analytics/worker",
                                 pod: "worker-6c9d8b7f5-\(["q4zlm", "x8k2p", "m3n7r", "t9w4c", "b6v1h", "z2j5d"][node])",
                                 host: "gke-analytics-pool-1-7f3c-\(node)", random: &random))
        }
    }

    static let workerContainers = (0..<6).map { n in
        "3f9e2c7a1b6d4e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6\(n)"
    }

    func audit(_ call: Call, ip: String, at time: Int64, random: inout SplitMix64) -> KubernetesAudit {
        var extra: [(String, String)] = []
        var uid: String?
        if let iam = call.iam {
            let key = "ASIA" + random.hex(16).uppercased()
            let role = String(iam.split(separator: "/")[0]), session = String(iam.split(separator: "/")[1])
            uid = "aws-iam-authenticator:\(Self.account):AROAY\(role.count)XK2Q7JH4NDFPL"
            extra = [("accessKeyId", key), ("arn", call.user),
                     ("canonicalArn", "arn:aws:iam::\(Self.account):role/\(role)"),
                     ("principalId", "AROAY\(role.count)XK2Q7JH4NDFPL"), ("sessionName", session)]
        }
        return KubernetesAudit(
            micros: time, auditID: random.uuid(), ip: ip, user: call.user, uid: uid, groups: call.groups, extra: extra,
            verb: call.verb, uri: call.uri, code: call.code, resource: call.resource, namespace: call.namespace,
            name: call.name, apiGroup: call.apiGroup, agent: call.agent,
            reason: call.code == 403 ? "" : "RBAC: allowed by ClusterRoleBinding \"\(call.groups[0])\" of ClusterRole \"cluster-admin\" to Group \"\(call.groups[0])\"")
    }

    func gke(at time: Int64, ip: String, principal: String, method: String, resource: String, agent: String,
             granted: Bool = true, random: inout SplitMix64) -> CloudAuditEntry {
        CloudAuditEntry(
            micros: time, insertID: random.uuid(), operationID: random.uuid(), ip: ip, principal: principal,
            method: method, resourceName: resource, granted: granted, agent: agent,
            reason: granted ? "RBAC: allowed by ClusterRoleBinding \"system:controller:replicaset-controller\" of ClusterRole \"system:controller:replicaset-controller\" to ServiceAccount \"replicaset-controller/kube-system\"" : "",
            cluster: "gke-analytics", project: "acme-analytics", location: "europe-west1")
    }

    func exec(at time: Int64, name: String, args: [String], interactive: Bool, parent: String, container: String,
              image: String, pod: String, host: String, user: String = "root", random: inout SplitMix64) -> ProcessExec {
        ProcessExec(micros: time, entityID: random.hex(32), pid: 2000 + random.below(58000), parentPID: 100 + random.below(1900),
                    name: name, args: args, interactive: interactive, parent: parent, user: user, container: container,
                    image: image, tag: "1.4.2", pod: pod, namespace: "analytics", cluster: "gke-analytics", host: host,
                    hostIP: "10.132.0.\(10 + host.count % 200)")
    }
}
