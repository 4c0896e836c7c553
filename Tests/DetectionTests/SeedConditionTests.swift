import AuditEvents
import Enrichment
import Testing
@testable import Detection

/// The conditions of the five seed detections (../shared/DESIGN.md), in the
/// condition language, evaluated on decoded events through ``AuditEventContext``.
@Suite struct SeedConditionTests {
    static let torIOC = "kubernetes and isTorExit(source.ip)"
    static let eksMultiple403 = """
        log_type == "Amazon.EKS.Audit" and stage == "ResponseComplete" and response.code == 403
          and request.uri like ("/api/*", "/apis/*") and isPublic(source.ip)
        """
    static let unifiedMultiple403 = """
        kubernetes and (response.code == 403 or (log_type == "GCP.AuditLog" and response.grpc_code == 7))
          and isPublic(source.ip)
        """
    static let accessScanning = #"user.groups == "system:unauthenticated" and response.code == 403"#
    /// Vigil's own wording of the Elastic rule's logic (interactive exec of an
    /// API client or a request to the API server from inside a container).
    static let interactiveAPIRequest = """
        process where host.os.type == "linux" and event.type == "start" and event.action == "exec"
          and process.interactive == true
          and (process.name in ("kubectl", "curl", "wget", "openssl", "busybox", "socat", "ncat", "nc")
               or process.args like~ ("*kubernetes.default*", "*/var/run/secrets/kubernetes.io/*"))
        """

    /// Decodes one record; audit events as EKS (auto-detection calls a bare
    /// audit.k8s.io Event plain Kubernetes).
    private func decode(_ json: String) throws -> AuditEvent {
        let format: SourceFormat = json.contains("audit.k8s.io") ? .eks : .auto
        let decoder = try AuditRecordDecoder(format: format)
        var outcomes: [DecodeOutcome] = []
        decoder.decode(Array(json.utf8), into: &outcomes)
        return try #require(outcomes.first?.event, "\(outcomes)")
    }

    private func eks(code: Int, ip: String, uri: String = "/api/v1/secrets", stage: String = "ResponseComplete",
                     groups: String = #""system:authenticated""#) -> String {
        """
        {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"\(stage)",\
        "requestURI":"\(uri)","verb":"list","user":{"username":"bob","groups":[\(groups)]},\
        "sourceIPs":["\(ip)","10.0.0.9"],"userAgent":"kubectl/v1.29","responseStatus":{"code":\(code)},\
        "annotations":{"authorization.k8s.io/decision":"forbid"},\
        "requestReceivedTimestamp":"2025-04-05T06:07:08.000000Z","stageTimestamp":"2025-04-05T06:07:08.100000Z"}
        """
    }

    private func holds(_ text: String, _ event: AuditEvent, tor: Set<String> = [],
                       geo: GeoLocation? = nil) throws -> Bool {
        let condition = try Condition(text)
        return condition.evaluate(AuditEventContext(event: event, geo: geo, torExit: { tor.contains($0) }))
    }

    @Test func everySeedConditionCompiles() throws {
        for text in [Self.torIOC, Self.eksMultiple403, Self.unifiedMultiple403, Self.accessScanning,
                     Self.interactiveAPIRequest] {
            _ = try Condition(text)
        }
    }

    @Test func eksMultiple403TakesOnlyTheFirstPublicSourceIP() throws {
        #expect(try holds(Self.eksMultiple403, decode(eks(code: 403, ip: "5.5.5.5"))))
        #expect(try holds(Self.eksMultiple403, decode(eks(code: 403, ip: "5.5.5.5", uri: "/apis/apps/v1"))))
        #expect(try !holds(Self.eksMultiple403, decode(eks(code: 200, ip: "5.5.5.5"))))
        #expect(try !holds(Self.eksMultiple403, decode(eks(code: 403, ip: "10.1.1.1"))))
        #expect(try !holds(Self.eksMultiple403, decode(eks(code: 403, ip: "5.5.5.5", uri: "/healthz"))))
        #expect(try !holds(Self.eksMultiple403, decode(eks(code: 403, ip: "5.5.5.5", stage: "ResponseStarted"))))
        #expect(try holds(Self.eksMultiple403, decode(eks(code: 403, ip: "2600:1f18::1"))))
    }

    @Test func unifiedMultiple403FiresOnEKS403FromAPublicIP() throws {
        #expect(try holds(Self.unifiedMultiple403, decode(eks(code: 403, ip: "5.5.5.5"))))
        #expect(try !holds(Self.unifiedMultiple403, decode(eks(code: 403, ip: "192.168.0.1"))))
        #expect(try !holds(Self.unifiedMultiple403, decode(eks(code: 401, ip: "5.5.5.5"))))
    }

    @Test func torIOCAsksTheTorSetForTheFirstSourceIP() throws {
        let event = try decode(eks(code: 200, ip: "5.5.5.5"))
        #expect(try holds(Self.torIOC, event, tor: ["5.5.5.5"]))
        #expect(try !holds(Self.torIOC, event, tor: ["10.0.0.9"]))
    }

    @Test func accessScanningMatchesUnauthenticated403() throws {
        let anonymous = try decode(eks(code: 403, ip: "5.5.5.5", groups: #""system:unauthenticated""#))
        #expect(try holds(Self.accessScanning, anonymous))
        #expect(try !holds(Self.accessScanning, decode(eks(code: 403, ip: "5.5.5.5"))))
    }

    @Test func rawPathsAndGeoFieldsResolveOnADecodedEvent() throws {
        let event = try decode(eks(code: 403, ip: "5.5.5.5"))
        #expect(try holds(#"annotations."authorization.k8s.io/decision" == "forbid""#, event))
        #expect(try holds("annotations.`authorization.k8s.io/decision` : \"FORBID\"", event))
        #expect(try holds(#"responseStatus.code == 403 and sourceIPs[1] == "10.0.0.9""#, event))
        #expect(try holds(#"source.ips == "10.0.0.9""#, event))
        #expect(try !holds(#"objectRef.namespace == "x""#, event))
        let berlin = GeoLocation(city: "Berlin", country: "Germany", countryCode: "DE")
        #expect(try holds(#"source.geo.country_iso_code == "DE" and City == "Berlin""#, event, geo: berlin))
        #expect(try !holds(#"source.geo.country_iso_code == "DE""#, event))
    }

    @Test func interactiveAPIRequestMatchesProcessEvents() throws {
        let kubectl = """
            {"@timestamp":"2025-04-05T06:07:08Z","event":{"kind":"event","category":["process"],"type":["start"],\
            "action":"exec"},"host":{"os":{"type":"linux"}},"process":{"name":"kubectl","args":["kubectl","get",\
            "secrets"],"interactive":true,"pid":42},"container":{"id":"c1"}}
            """
        let curl = """
            {"@timestamp":"2025-04-05T06:07:08Z","event.kind":"event","event.category":"process",\
            "event.type":"start","event.action":"exec","host.os.type":"linux","process.name":"python3",\
            "process.args":["python3","-c","get('https://KUBERNETES.DEFAULT.svc/api')"],\
            "process.interactive":true,"container.id":"c2"}
            """
        let daemon = kubectl.replacingOccurrences(of: #""interactive":true"#, with: #""interactive":false"#)
        #expect(try holds(Self.interactiveAPIRequest, decode(kubectl)))
        #expect(try holds(Self.interactiveAPIRequest, decode(curl)))
        #expect(try !holds(Self.interactiveAPIRequest, decode(daemon)))
    }
}
