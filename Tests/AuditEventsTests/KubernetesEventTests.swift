import AuditEvents
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Field-by-field checks of EKS, AKS and plain Kubernetes samples.
@Suite struct KubernetesEventTests {
    @Test func pantherEKSEventReadsAllFields() throws {
        let line = try #require(Fixtures.lines("eks/panther-eks-audit-tests.jsonl").first)
        let e = try #require(Fixtures.event(line))
        #expect(e.logType == .eksAudit)
        #expect(e.cluster == "example-cluster-eks-logs")
        #expect(e.sourceIPs == ["8.8.8.8"])
        #expect(e.sourceIP == "8.8.8.8")
        #expect(e.user.name == "system:anonymous")
        #expect(e.object.resource == "pods")
        #expect(e.object.namespace == "default")
        #expect(e.object.name == "test-pod")
        #expect(e.object.apiVersion == "v1")
        #expect(e.requestURI == "/api/v1/namespaces/default/pods/test-pod")
        #expect(e.response.code == 200)
        #expect(e.userAgent == "kubectl/v1.25.4")
        #expect(e.stage == "ResponseComplete")
        #expect(e.auditID == "abcde12345")
        #expect(e.level == "Request")
        #expect(e.authorization.decision == "allow")
        #expect(e.authorization.reason == "RBAC: allowed by ClusterRoleBinding system:public-info-viewer")
        #expect(e.time == EventTime(parsing: "2022-11-29T00:09:04.38Z"))
        #expect(e.isKubernetes)
        #expect(e.rawValue(at: try FieldPath("annotations.\"authorization.k8s.io/decision\"")) == .string("allow"))
    }

    @Test func splunkEKSEventReadsForbiddenResponse() throws {
        let line = try #require(Fixtures.lines("eks/splunk-security-content-example.jsonl").first)
        let e = try #require(Fixtures.event(line, format: .eks))
        #expect(e.user.uid == "aws-iam-authenticator:591511147606:AROAYTOGP2RLFHNBOTP5J")
        #expect(e.user.groups == ["system:authenticated"])
        #expect(e.verb == "create")
        #expect(e.object.apiGroup == "batch")
        #expect(e.object.resource == "jobs")
        #expect(e.response.code == 403)
        #expect(e.response.status == "Failure")
        #expect(e.response.reason == "Forbidden")
        #expect(e.response.message?.hasPrefix("jobs.batch is forbidden") == true)
        #expect(e.authorization.decision == "forbid")
        #expect(e.sourceIP == "176.95.188.101")
        #expect(e.time == EventTime(parsing: "2023-12-07T14:44:53.358394Z"))
        #expect(e.cluster == nil)
        #expect(e.warnings.isEmpty)
    }

    @Test func configuredClusterLabelNamesEKSEvents() throws {
        let line = try #require(Fixtures.lines("eks/splunk-security-content-example.jsonl").first)
        let decoder = try AuditRecordDecoder(format: .eks, options: DecoderOptions(clusterLabel: "prod-eks"))
        #expect(decoder.decode(line).first?.event?.cluster == "prod-eks")
    }

    @Test func notAnIPSourceIsKeptAndFlagged() throws {
        let lines = Fixtures.lines("eks/panther-eks-audit-tests.jsonl")
        let events = lines.compactMap { Fixtures.event($0) }
        let bad = try #require(events.first { $0.sourceIPs == ["not-an-ip", "10.0.1.5"] })
        #expect(bad.sourceIP == "not-an-ip")
        #expect(bad.warnings.contains(.invalidSourceIP))
        #expect(events.filter { $0.warnings.contains(.invalidSourceIP) }.count == 1)
    }

    /// A source IP is valid exactly when `inet_pton` takes it (IPv4 or IPv6, before a `%` zone):
    /// the decoder's dotted-quad shortcut agrees with it on the near misses.
    @Test func sourceIPValidityAgreesWithInetPton() throws {
        let decoder = try AuditRecordDecoder()
        let candidates = [
            "1.2.3.4", "0.0.0.0", "255.255.255.255", "12.34.56.78", "10.0.0.1%eth0", "01.2.3.4", "1.2.3.04",
            "00.0.0.0", "256.1.1.1", "1.2.3.256", "999.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3",
            "1.2.3.4 ", "1.2.3.4x", "::1", "fe80::1%eth0", "::ffff:1.2.3.4",
        ]
        var accepted = 0
        for ip in candidates {
            let plain = String(ip.prefix { $0 != "%" })
            var address = (UInt64(0), UInt64(0))
            let valid = withUnsafeMutableBytes(of: &address) { out in
                inet_pton(AF_INET, plain, out.baseAddress) == 1 || inet_pton(AF_INET6, plain, out.baseAddress) == 1
            }
            let line = #"{"kind":"Event","verb":"get","user":{"username":"a"},"sourceIPs":["\#(ip)"]}"#
            let event = try #require(decoder.decode(line).first?.event)
            #expect(event.warnings.contains(.invalidSourceIP) == !valid, "\(ip): inet_pton says \(valid)")
            if valid { accepted += 1 }
        }
        #expect(accepted == 8, "the candidates inet_pton takes")
    }

    @Test func cloudWatchDataMessageYieldsOneEventPerLogEvent() throws {
        let lines = Fixtures.lines("eks/vigil-cloudwatch-batch.jsonl")
        let decoder = try AuditRecordDecoder(format: .eks)
        let outcomes = decoder.decode(lines[0])
        let events = outcomes.compactMap(\.event)
        #expect(outcomes.count == 3 && events.count == 3)
        #expect(events.map(\.auditID) == ["vigil-eks-1", "vigil-eks-2", "vigil-eks-3"])
        #expect(events.allSatisfy { $0.cluster == "vigil-eks" && $0.logType == .eksAudit })
        #expect(events[0].user.groups == ["system:unauthenticated"])
        #expect(events[0].response.code == 403)
        // The third has no timestamps of its own: the logEvents timestamp is used.
        #expect(events[2].time == EventTime(milliseconds: 1_709_528_769_123))
        #expect(!events[2].warnings.contains(.missingTime))
        #expect(events[1].rawValue(at: try FieldPath("objectRef.name")) == .string("front"))
    }

    @Test func cloudWatchControlMessageIsSkipped() throws {
        let lines = Fixtures.lines("eks/vigil-cloudwatch-batch.jsonl")
        let outcomes = try AuditRecordDecoder().decode(lines[1])
        #expect(outcomes.count == 1)
        guard case .skipped(let issue) = outcomes.first else {
            Issue.record("expected a skip, got \(outcomes)")
            return
        }
        #expect(issue.reason == .controlMessage)
    }

    @Test func dynatraceAKSRecordReadsAllFields() throws {
        let line = try #require(Fixtures.lines("aks/dynatrace-kube-audit.jsonl").first)
        let e = try #require(Fixtures.event(line))
        #expect(e.logType == .azureMonitorActivity)
        #expect(e.cluster == "DEMO-AKS")
        #expect(e.user.name == "system:serviceaccount:kube-system:metrics-server")
        #expect(e.user.uid == "82956dc9-f65d-11e9-b4d7-da0e02e04c9e")
        #expect(e.user.groups == ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"])
        #expect(e.sourceIPs == ["52.188.216.128"])
        #expect(e.verb == "create")
        #expect(e.object.resource == "subjectaccessreviews")
        #expect(e.object.apiGroup == "authorization.k8s.io")
        #expect(e.object.apiVersion == "v1beta1")
        #expect(e.requestURI == "/apis/authorization.k8s.io/v1beta1/subjectaccessreviews")
        #expect(e.response.code == 201)
        #expect(e.userAgent == "metrics-server/v0.0.0 (linux/amd64) kubernetes/$Format")
        #expect(e.auditID == "7df19974-f894-454b-a1f2-137258598c45")
        #expect(e.authorization.decision == "allow")
        #expect(e.time == EventTime(parsing: "2021-02-02T15:00:00.703531Z"))
        #expect(e.envelope?.value(at: "category") == .string("kube-audit"))
        #expect(e.rawValue(at: try FieldPath("category")) == .string("kube-audit"))
        #expect(e.rawValue(at: try FieldPath("annotations.\"k8s.io/removed-release\"")) == .string("1.22"))
    }

    @Test func aksObjectLogAndDegenerateLogBothDecode() throws {
        let lines = Fixtures.lines("aks/vigil-aks-shapes.jsonl")
        let first = try #require(Fixtures.event(lines[0]))
        #expect(first.cluster == "VIGIL-AKS")
        #expect(first.object.name == "vigil-approver")

        let degenerate = try #require(Fixtures.event(lines[1]))
        #expect(degenerate.verb == nil && degenerate.sourceIPs.isEmpty)
        #expect(degenerate.warnings.contains(.missingSourceIP) && degenerate.warnings.contains(.missingField))
        #expect(degenerate.time == EventTime(parsing: "2025-01-02T03:05:00Z"))

        let admin = try #require(Fixtures.event(lines[2]))
        #expect(admin.sourceIPs == ["198.51.100.77", "10.1.2.3"])
        #expect(admin.sourceIP == "198.51.100.77")
        #expect(admin.response.code == 403 && admin.response.reason == "Forbidden")
        #expect(admin.verb == "delete" && admin.object.resource == "secrets")
        #expect(admin.raw.value(at: "objectRef.namespace") == .string("prod"))
    }

    @Test func eventHubsBatchYieldsAnOutcomePerRecord() throws {
        let line = try #require(Fixtures.lines("aks/vigil-eventhubs-batch.jsonl").first)
        let outcomes = try AuditRecordDecoder(format: .aks).decode(line)
        #expect(outcomes.count == 3)
        #expect(outcomes[0].event?.auditID == "vigil-aks-1")
        #expect(outcomes[1].issue?.reason == .notKubernetesCategory)
        #expect(outcomes[1].issue?.position == 1)
        if case .skipped = outcomes[1] {} else { Issue.record("records[1] should be skipped") }
        #expect(outcomes[2].event?.auditID == "vigil-aks-3")
        #expect(outcomes[2].event?.envelope?.value(at: "category") == .string("kube-audit-admin"))
    }

    @Test func eventHubsElementsKeepTheirBytesAsWritten() throws {
        // Whitespace, an escaped slash and a \u escape: what a re-serialized element would lose.
        let first = #"{ "category" : "kube-audit", "resourceId": "\/SUBSCRIPTIONS\/S\/MANAGEDCLUSTERS\/A\u0042C", "properties": {"log": "{\"verb\":\"get\",\"sourceIPs\":[\"10.0.0.1\"]}"} }"#
        let second = #"{"category":"kube-audit-admin","properties":{ "log" : { "verb" : "delete", "user": {"username": "alice"} } }}"#
        let line = "{\"records\": [\n  " + first + " ,\n  7,\n  " + second + "\n]}"
        let outcomes = try AuditRecordDecoder(format: .auto).decode(line)
        #expect(outcomes.count == 3)
        let a = try #require(outcomes[0].event)
        #expect(a.envelope?.text == first)
        #expect(a.cluster == "ABC" && a.verb == "get")
        #expect(outcomes[1].issue?.reason == .notAnObject)
        let b = try #require(outcomes[2].event)
        #expect(b.envelope?.text == second)
        #expect(b.raw.text == #"{ "verb" : "delete", "user": {"username": "alice"} }"#)
        #expect(b.user.name == "alice" && b.verb == "delete")
        // Without raw documents, nothing is sliced or kept.
        let bare = try AuditRecordDecoder(options: DecoderOptions(keepRaw: false)).decode(line)
        #expect(bare.count == 3 && bare[0].event?.envelope == nil && bare[2].event?.verb == "delete")
    }

    @Test func falcoV1beta1EventUsesRequestReceivedTimestamp() throws {
        let line = try #require(Fixtures.lines("raw-k8s/falco-k8s-audit-trace-files.jsonl").first)
        let e = try #require(Fixtures.event(line))
        #expect(e.logType == .kubernetesAudit)
        #expect(e.time == EventTime(parsing: "2018-10-25T13:58:49.730588Z"))
        #expect(e.object.resource == "namespaces" && e.object.name == "foo")
        #expect(e.response.code == 201)
        #expect(e.sourceIP == "192.168.99.1")
    }

    @Test func plainEventWithOffsetAndSubresource() throws {
        let lines = Fixtures.lines("raw-k8s/vigil-k8s-shapes.jsonl")
        let first = try #require(Fixtures.event(lines[0]))
        #expect(first.time == EventTime(parsing: "2025-02-03T03:05:06.789012Z"))
        #expect(first.object.apiGroup == "")
        let exec = try #require(Fixtures.event(lines[1]))
        #expect(exec.object.subresource == "exec")
        #expect(exec.response.code == 101)
    }
}

/// Audit IDs are kept inline up to 40 bytes and as a `String` beyond: every
/// length and non-ASCII text reads back the same, decoded, set and after the
/// compact encoding's round trip.
@Suite struct AuditIDStorageTests {
    static let ids = [
        "", "a", "abcde12345", "7df19974-f894-454b-a1f2-137258598c45", String(repeating: "x", count: 40),
        String(repeating: "y", count: 41), String(repeating: "z", count: 90), "ü-Ω-日本-" + String(repeating: "é", count: 20),
    ]

    @Test func everyLengthReadsBackTheSame() throws {
        let decoder = CompactEventDecoder()
        for id in Self.ids {
            let escaped = id.unicodeScalars.map { scalar -> String in
                let hex = String(scalar.value, radix: 16)
                return scalar.isASCII ? String(scalar) : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
            let line = #"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":""# + escaped.joined()
                + #"","verb":"get","sourceIPs":["10.0.0.1"]}"#
            var e = try #require(Fixtures.event(line))
            #expect(e.auditID == id)
            var w = CompactWriter()
            e.writeCompact(into: &w, documents: false)
            let back = w.bytes.withUnsafeBufferPointer { bytes -> AuditEvent? in
                var r = decoder.reader(bytes)
                return decoder.readEvent(&r).event
            }
            #expect(back?.auditID == id)
            #expect(back == e.withoutDocuments)
            e.auditID = id + "!"
            #expect(e.auditID == id + "!")
            e.auditID = nil
            #expect(e.auditID == nil)
        }
    }
}
