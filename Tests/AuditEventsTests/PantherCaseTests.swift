import AuditEvents
import Testing

/// The Panther rule tests' logs decode into the fields the rules read.
@Suite struct PantherCaseTests {
    static let files: [String] = ["Kubernetes.API.IOC.Activity", "Amazon.EKS.Audit.Multiple403",
                                  "Kubernetes.API.Multiple403.PublicIP"]
        .flatMap { Fixtures.files(in: "panther-tests/" + $0, suffix: ".json") }

    static func testCase(_ file: String) throws -> (log: [UInt8], spec: RawJSON) {
        let bytes = try #require(Fixtures.read(file))
        let spec = RawJSON(bytes)
        let log = try #require(spec.value(at: "log"))
        return (Array(log.jsonText.utf8), spec)
    }

    @Test func thereAreFifteenCases() {
        #expect(Self.files.count == 15)
    }

    @Test(arguments: files)
    func logDecodes(file: String) throws {
        let (log, spec) = try Self.testCase(file)
        let outcomes = try AuditRecordDecoder().decode(log)
        #expect(outcomes.count == 1)
        let outcome = try #require(outcomes.first)
        if file.hasSuffix("06-non-k8s-azure-activity-excluded.json") {
            #expect(outcome.issue?.reason == .notKubernetesCategory)
            return
        }
        let event = try #require(outcome.event, "\(file): \(String(describing: outcome.issue))")
        if file.hasSuffix("04-non-k8s-gcp-activity-excluded.json") {
            #expect(!event.isKubernetes)
            return
        }
        #expect(event.isKubernetes)
        // Where the original rule ran, its alert context names the user and IPs we must read.
        if let context = spec.value(at: "observed_alert_context") {
            if let user = context["username"]?.stringValue ?? context["user"]?.stringValue {
                #expect(event.user.name == user, "\(file)")
            }
            if let ips = context["sourceIPs"] {
                #expect(event.sourceIPs == ips.elements.compactMap(\.stringValue), "\(file)")
            }
            if let verb = context["verb"]?.stringValue { #expect(event.verb == verb, "\(file)") }
            if let resource = context["resource"]?.stringValue {
                #expect(event.object.resource == resource, "\(file)")
            }
            if let cluster = context["cluster"]?.stringValue { #expect(event.cluster == cluster, "\(file)") }
        }
    }

    @Test func gke403CaseHasGRPCSeven() throws {
        let file = try #require(Self.files.first { $0.hasSuffix("03-gcp-gke-403-from-public-ip.json") })
        let event = try #require(try AuditRecordDecoder().decode(Self.testCase(file).log).first?.event)
        #expect(event.response.code == 403 && event.response.grpcCode == 7)
    }

    @Test func noSourceIPCaseIsFlagged() throws {
        let file = try #require(Self.files.first { $0.hasSuffix("06-no-source-ip.json") })
        let event = try #require(try AuditRecordDecoder().decode(Self.testCase(file).log).first?.event)
        #expect(event.sourceIP == nil && event.warnings.contains(.missingSourceIP))
        #expect(event.response.code == 403)
    }
}
