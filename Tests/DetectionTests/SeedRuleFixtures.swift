import AuditEvents
import Enrichment
import Foundation
@testable import Detection

/// Raw records in the real shapes of each source (EKS audit Event, AKS
/// diagnostic record with `properties.log` as a JSON string, GKE Cloud Audit
/// LogEntry, ECS process event), decoded by the real decoders, and runs of the
/// repository's seed rules (`topology/rules`) through ``DetectionEngine``.
enum SeedRuleFixtures {
    /// 2024-03-12T12:00:00Z, on the hour.
    static let t0: Int64 = 1_710_244_800
    static let geoTestDatabase = RuleFixtures.testsDirectory + "/../EnrichmentTests/Fixtures/GeoIP2-City-Test.mmdb"

    /// The seed rules, loaded through the real loader.
    static func rule(_ id: String) throws -> Rule {
        let rules = try RuleLoader.load(directory: RuleFixtures.seedRules)
        guard let rule = rules.first(where: { $0.id == id }) else { throw FixtureError("no rule \(id)") }
        return rule
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// RFC 3339 UTC for `t0 + minutes`.
    static func time(_ minutes: Double) -> String {
        eventTime(minutes).description
    }

    static func eventTime(_ minutes: Double) -> EventTime {
        EventTime(nanos: t0 * 1_000_000_000 + Int64(minutes * 60e9))
    }

    private static func quoted(_ values: [String]) -> String {
        values.map { "\"\($0)\"" }.joined(separator: ",")
    }

    /// An `audit.k8s.io` Event as EKS writes it (Panther's cluster label in `p_source_label`).
    static func eksJSON(_ minutes: Double, ips: [String] = ["5.5.5.5"], code: Int = 403, stage: String = "ResponseComplete",
                        uri: String = "/api/v1/namespaces/default/secrets", verb: String = "list",
                        user: String = "bob", groups: [String] = ["system:authenticated"],
                        namespace: String? = "default", resource: String = "secrets",
                        agent: String = "kubectl/v1.29.1", label: Bool = true) -> String {
        let t = time(minutes)
        let ns = namespace.map { #","namespace":"\#($0)""# } ?? ""
        let reason = code == 403 ? #","status":"Failure","reason":"Forbidden""# : ""
        let source = label ? #","p_source_label":"prod-eks""# : ""
        return """
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"eks-\(minutes)-\(ips[0])",\
            "stage":"\(stage)","requestURI":"\(uri)","verb":"\(verb)",\
            "user":{"username":"\(user)","groups":[\(quoted(groups))]},"sourceIPs":[\(quoted(ips))],\
            "userAgent":"\(agent)","objectRef":{"resource":"\(resource)"\(ns),"apiVersion":"v1"},\
            "responseStatus":{"code":\(code)\(reason)},\
            "requestReceivedTimestamp":"\(t)","stageTimestamp":"\(t)"\(source)}
            """
    }

    /// An AKS diagnostic record: the Event as a JSON string in `properties.log`.
    static func aksJSON(_ minutes: Double, ips: [String] = ["5.5.5.5"], code: Int = 403,
                        category: String = "kube-audit", user: String = "masterclient",
                        groups: [String] = ["system:masters"], uri: String = "/api/v1/namespaces/kube-system/secrets",
                        verb: String = "list") -> String {
        let inner = eksJSON(minutes, ips: ips, code: code, uri: uri, verb: verb, user: user, groups: groups,
                            namespace: "kube-system", label: false)
        let escaped = inner.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return """
            {"category":"\(category)","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",\
            "resourceId":"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-PROD/PROVIDERS/\
            MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD","time":"\(time(minutes))",\
            "properties":{"log":"\(escaped)","stream":"stdout","pod":"kube-apiserver-7d9f8c6b5-x2x9k"}}
            """
    }

    /// A GKE Cloud Audit LogEntry; `grpc` nil is an empty status (OK).
    static func gkeJSON(_ minutes: Double, ip: String = "5.5.5.5", grpc: Int? = 7, service: String = "k8s.io",
                        user: String = "mallory@example.com", method: String = "io.k8s.core.v1.secrets.list",
                        resource: String = "core/v1/namespaces/default/secrets") -> String {
        let status = grpc.map { #"{"code":\#($0)\#($0 == 7 ? #","message":"PERMISSION_DENIED""# : "")}"# } ?? "{}"
        return """
            {"insertId":"gke-\(minutes)-\(ip)","logName":"projects/acme-prod/logs/cloudaudit.googleapis.com%2Fdata_access",\
            "protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog",\
            "authenticationInfo":{"principalEmail":"\(user)"},"methodName":"\(method)",\
            "requestMetadata":{"callerIp":"\(ip)","callerSuppliedUserAgent":"kubectl/v1.29.1 (linux/amd64)"},\
            "resourceName":"\(resource)","serviceName":"\(service)","status":\(status)},\
            "resource":{"type":"k8s_cluster","labels":{"cluster_name":"gke-prod","location":"europe-west1",\
            "project_id":"acme-prod"}},"timestamp":"\(time(minutes))","receiveTimestamp":"\(time(minutes))"}
            """
    }

    /// An ECS process event as Defend for Containers writes it (nested keys,
    /// dotted ones inside `container` and `orchestrator`).
    static func processJSON(_ minutes: Double, name: String, args: [String], interactive: Bool? = true,
                            os: String = "linux", type: String = "start", action: String = "exec",
                            container: String? = "b781c8e5") -> String {
        let interactiveField = interactive.map { #","interactive":\#($0)"# } ?? ""
        let containerField = container.map { #","container":{"id":"\#($0)","image.name":"nginx"}"# } ?? ""
        return """
            {"@timestamp":"\(time(minutes))","event":{"kind":"event","category":["process"],"type":["\(type)"],\
            "action":"\(action)"},"host":{"os":{"type":"\(os)"}},"process":{"name":"\(name)",\
            "executable":"/usr/bin/\(name)","args":[\(quoted(args))],"pid":4242,"parent":{"name":"bash"}\
            \(interactiveField)}\(containerField),"orchestrator":{"namespace":"default","cluster.name":"gke-prod"}}
            """
    }

    /// Decodes one record with the decoder of `format`; every record here must decode.
    static func decode(_ json: String, _ format: SourceFormat) throws -> AuditEvent {
        let decoder = try AuditRecordDecoder(format: format)
        var outcomes: [DecodeOutcome] = []
        decoder.decode(Array(json.utf8), into: &outcomes)
        guard outcomes.count == 1, let event = outcomes[0].event else {
            throw FixtureError("\(json) decoded to \(outcomes)")
        }
        return event
    }

    static func eks(_ minutes: Double, ips: [String] = ["5.5.5.5"], code: Int = 403, stage: String = "ResponseComplete",
                    uri: String = "/api/v1/namespaces/default/secrets", verb: String = "list", user: String = "bob",
                    groups: [String] = ["system:authenticated"], namespace: String? = "default",
                    agent: String = "kubectl/v1.29.1") throws -> AuditEvent {
        try decode(eksJSON(minutes, ips: ips, code: code, stage: stage, uri: uri, verb: verb, user: user,
                           groups: groups, namespace: namespace, agent: agent), .eks)
    }

    static func aks(_ minutes: Double, ips: [String] = ["5.5.5.5"], code: Int = 403, category: String = "kube-audit",
                    user: String = "masterclient", groups: [String] = ["system:masters"],
                    uri: String = "/api/v1/namespaces/kube-system/secrets", verb: String = "list") throws -> AuditEvent {
        try decode(aksJSON(minutes, ips: ips, code: code, category: category, user: user, groups: groups, uri: uri,
                           verb: verb), .aks)
    }

    static func gke(_ minutes: Double, ip: String = "5.5.5.5", grpc: Int? = 7, service: String = "k8s.io",
                    user: String = "mallory@example.com", method: String = "io.k8s.core.v1.secrets.list",
                    resource: String = "core/v1/namespaces/default/secrets") throws -> AuditEvent {
        try decode(gkeJSON(minutes, ip: ip, grpc: grpc, service: service, user: user, method: method,
                           resource: resource), .gke)
    }

    static func process(_ minutes: Double, name: String, args: [String], interactive: Bool? = true,
                        os: String = "linux", type: String = "start", action: String = "exec",
                        container: String? = "b781c8e5") throws -> AuditEvent {
        try decode(processJSON(minutes, name: name, args: args, interactive: interactive, os: os, type: type,
                               action: action, container: container), .process)
    }

    /// One event and its enrichment.
    struct Input {
        var event: AuditEvent
        var enrichment: EventEnrichment = .none
    }

    /// Enriches events as a rule test case is (GeoIP of the first source IP) with a Tor set.
    static func enrich(_ events: [AuditEvent], geo: GeoLocator? = nil, tor: [String] = []) -> [Input] {
        events.map { Input(event: $0, enrichment: RuleTestRunner.enrichment(for: $0, geo: geo, tor: tor)) }
    }

    /// Runs inputs in order through a fresh engine holding `rule` (line n = n-th
    /// input), then finishes it unless told not to.
    static func run(_ rule: Rule, _ inputs: [Input], settings: EngineSettings = .init(),
                    finish: Bool = true) -> (alerts: [Alert], statistics: EngineStatistics) {
        var engine = DetectionEngine(rules: [rule], settings: settings)
        var alerts: [Alert] = []
        for (index, input) in inputs.enumerated() {
            alerts += engine.process(input.event, enrichment: input.enrichment,
                                     origin: .file(path: "seed.jsonl", line: index + 1))
        }
        if finish { alerts += engine.finish() }
        return (alerts, engine.statistics)
    }

    static func run(_ rule: Rule, _ events: [AuditEvent], settings: EngineSettings = .init()) -> [Alert] {
        run(rule, events.map { Input(event: $0) }, settings: settings).alerts
    }
}

extension Alert {
    /// A field of `output` / `groupKey` / `statistics` by name, as text.
    func texts(_ name: String, in fields: KeyPath<Alert, [Field]>) -> [String]? {
        self[keyPath: fields].first { $0.name == name }?.values.map(\.text)
    }
}
