/// The events of the configured attack instances, at their places in the stream.
enum AttackPlanner {
    static let order: [Attack] = [.scan, .eks403, .gke403, .tor, .interactive]
    static let hour: Int64 = 3_600_000_000
    /// Demo exits of geo/tor/torbulkexitlist-2024-03-12.txt, used when no list is given.
    static let fallbackExits = ["185.241.208.232", "171.25.193.25", "192.42.116.187"]

    static func events(_ configuration: TrafficConfiguration, catalog: inout Catalog,
                       random: inout SplitMix64) -> [GeneratedEvent] {
        // Instances round-robin over the kinds, in `order`.
        var left = order.map { max(configuration.attacks[$0] ?? 0, 0) }
        var instances: [Attack] = []
        while left.contains(where: { $0 > 0 }) {
            for (i, attack) in order.enumerated() where left[i] > 0 {
                instances.append(attack)
                left[i] -= 1
            }
        }
        var exits = configuration.torExits.isEmpty ? fallbackExits : configuration.torExits
        // A seeded shuffle, so instances use distinct exits while they last.
        for i in stride(from: exits.count - 1, to: 0, by: -1) { exits.swapAt(i, random.below(i + 1)) }
        var events: [GeneratedEvent] = []
        var torInstances = 0
        let span = min(configuration.attackSpanMicros ?? .max, configuration.spanMicros)
        for (k, attack) in instances.enumerated() {
            let slot = configuration.startMicros + span * Int64(2 * k + 1) / Int64(2 * instances.count)
            switch attack {
            case .scan:
                scan(at: slot, configuration, catalog: &catalog, random: &random, into: &events)
            case .eks403:
                eksDenials(at: slot, catalog: &catalog, random: &random, into: &events)
            case .gke403:
                gkeDenials(at: slot, catalog: &catalog, random: &random, into: &events)
            case .tor:
                let ip = exits[torInstances % exits.count]
                tor(at: slot, ip: ip, cloud: torInstances % 3, catalog: catalog, random: &random, into: &events)
                torInstances += 1
            case .interactive:
                interactive(at: slot, catalog: catalog, random: &random, into: &events)
            }
        }
        return events
    }

    /// Spread `n` times over `length` from `start`, each within the first half of its share.
    static func spread(_ start: Int64, _ length: Int64, _ n: Int, _ random: inout SplitMix64) -> [Int64] {
        (0..<n).map { i in start + Int64((Double(i) + random.unit() * 0.5) / Double(n) * Double(length)) }
    }

    static func scan(at slot: Int64, _ configuration: TrafficConfiguration, catalog: inout Catalog,
                     random: inout SplitMix64, into events: inout [GeneratedEvent]) {
        let length: Int64 = 30_000_000
        var start = slot
        // The probes stay inside one clock hour (the rule's tumbling window).
        if (start + length) / hour != start / hour { start = (start / hour + 1) * hour + 1_000_000 }
        let ip = catalog.attacker(&random, accept: configuration.isLocated)
        let uris = ["/", "/.env", "/api/v1/pods", "/apis", "/api/v1/namespaces/kube-system/secrets",
                    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/actuator/env", "/HNAP1"]
        let probe = { (uri: String, code: Int) in
            Catalog.Call(user: "system:anonymous", groups: ["system:unauthenticated"], verb: "get", uri: uri,
                         agent: "Mozilla/5.0 zgrab/0.x", code: code)
        }
        for (t, uri) in zip(spread(start, length, uris.count, &random), uris) {
            events.append(.aks(catalog.audit(probe(uri, 403), ip: ip, at: t, random: &random)))
        }
        if let lateness = configuration.closeWindowsAfterSeconds {
            // The scanner's next request, after the window's end plus the allowed lateness.
            let close = (start / hour + 1) * hour + lateness * 1_000_000 + 5_000_000
            var next = catalog.audit(probe("/version", 200), ip: ip, at: close, random: &random)
            next.reason = "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole \"system:public-info-viewer\" to Group \"system:unauthenticated\""
            events.append(.aks(next))
        }
    }

    static func eksDenials(at slot: Int64, catalog: inout Catalog, random: inout SplitMix64,
                           into events: inout [GeneratedEvent]) {
        let ip = catalog.attacker(&random)
        let tries: [(String, String, String, String?)] = [
            ("list", "/api/v1/secrets", "secrets", nil),
            ("list", "/api/v1/namespaces/kube-system/secrets", "secrets", "kube-system"),
            ("get", "/api/v1/namespaces/kube-system/secrets/aws-auth", "secrets", "kube-system"),
            ("list", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "clusterrolebindings", nil),
            ("create", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "clusterrolebindings", nil),
            ("create", "/api/v1/namespaces/default/pods", "pods", "default"),
            ("list", "/api/v1/nodes", "nodes", nil),
            ("create", "/api/v1/namespaces/shop/pods/cart-5d7f9c-8kq2x/exec", "pods", "shop"),
            ("list", "/apis/apps/v1/daemonsets", "daemonsets", nil),
            ("get", "/api/v1/namespaces/default/serviceaccounts/default/token", "serviceaccounts", "default"),
            ("list", "/api/v1/configmaps", "configmaps", nil),
            ("create", "/apis/batch/v1/namespaces/default/jobs", "jobs", "default"),
        ]
        for (t, (verb, uri, resource, namespace)) in zip(spread(slot, 180_000_000, tries.count, &random), tries) {
            let call = Catalog.Call(user: "arn:aws:sts::613298554017:assumed-role/dev-readonly/jenkins",
                                    groups: ["system:authenticated"], verb: verb, uri: uri, resource: resource,
                                    namespace: namespace, agent: Catalog.kubectl, code: 403, iam: "dev-readonly/jenkins")
            events.append(.eks(catalog.audit(call, ip: ip, at: t, random: &random)))
        }
    }

    static func gkeDenials(at slot: Int64, catalog: inout Catalog, random: inout SplitMix64,
                           into events: inout [GeneratedEvent]) {
        let ip = catalog.attacker(&random)
        let methods = ["io.k8s.core.v1.secrets.list", "io.k8s.core.v1.secrets.get",
                       "io.k8s.rbac.v1.clusterrolebindings.create", "io.k8s.core.v1.pods.exec.create"]
        for (i, t) in spread(slot, 180_000_000, 10, &random).enumerated() {
            events.append(.gke(catalog.gke(at: t, ip: ip, principal: "ci-deployer@acme-analytics.iam.gserviceaccount.com",
                                           method: methods[i % methods.count],
                                           resource: "core/v1/namespaces/kube-system/secrets",
                                           agent: "python-requests/2.32.3", granted: false, random: &random)))
        }
    }

    static func tor(at slot: Int64, ip: String, cloud: Int, catalog: Catalog, random: inout SplitMix64,
                    into events: inout [GeneratedEvent]) {
        switch cloud {
        case 0:
            let call = Catalog.Call(user: "arn:aws:sts::613298554017:assumed-role/platform-admins/maria",
                                    groups: ["system:masters", "system:authenticated"], verb: "list",
                                    uri: "/api/v1/namespaces/shop/secrets", resource: "secrets", namespace: "shop",
                                    agent: Catalog.kubectl, iam: "platform-admins/maria")
            events.append(.eks(catalog.audit(call, ip: ip, at: slot, random: &random)))
        case 1:
            let call = Catalog.Call(user: "masterclient", groups: ["system:masters", "system:authenticated"], verb: "get",
                                    uri: "/api/v1/namespaces/payments/secrets/stripe-keys", resource: "secrets",
                                    namespace: "payments", name: "stripe-keys", agent: Catalog.kubectl)
            events.append(.aks(catalog.audit(call, ip: ip, at: slot, random: &random)))
        default:
            events.append(.gke(catalog.gke(at: slot, ip: ip, principal: "ci-deployer@acme-analytics.iam.gserviceaccount.com",
                                           method: "io.k8s.core.v1.configmaps.list",
                                           resource: "core/v1/namespaces/analytics/configmaps", agent: Catalog.kubectl,
                                           random: &random)))
        }
    }

    static func interactive(at slot: Int64, catalog: Catalog, random: inout SplitMix64,
                            into events: inout [GeneratedEvent]) {
        let container = random.hex(64)
        let pod = "notebook-\(random.hex(9))-\(random.hex(5))"
        let host = "gke-analytics-pool-1-7f3c-\(random.below(6))"
        let image = "jupyter/scipy-notebook"
        let steps: [(Int64, String, [String], String)] = [
            (0, "bash", ["bash"], "runc"),
            (10_000_000, "kubectl", ["kubectl", "get", "secrets", "-A"], "bash"),
            (25_000_000, "curl", ["curl", "-sk", "-H",
                                  "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)",
                                  "https://kubernetes.default.svc/api/v1/namespaces/kube-system/secrets"], "bash"),
        ]
        for (offset, name, args, parent) in steps {
            events.append(.process(catalog.exec(at: slot + offset, name: name, args: args, interactive: true,
                                                parent: parent, container: container, image: image, pod: pod,
                                                host: host, random: &random)))
        }
    }
}
