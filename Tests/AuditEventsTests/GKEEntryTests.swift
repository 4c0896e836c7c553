import AuditEvents
import Testing

@Suite struct GKEEntryTests {
    static let shapes = Fixtures.lines("gke/vigil-gke-shapes.jsonl")

    @Test func pantherEntryWithCallerIPAndPantherTimestamp() throws {
        let line = try #require(Fixtures.lines("gke/panther-gcp-k8s-audit-tests.jsonl").first)
        let e = try #require(Fixtures.event(line))
        #expect(e.logType == .gcpAuditLog && e.isKubernetes)
        #expect(e.sourceIPs == ["1.2.3.4"])
        #expect(e.user.name == "john.doe@company.com")
        #expect(e.verb == "create")
        #expect(e.object.resource == "pods" && e.object.namespace == "default")
        #expect(e.object.name == "test-privileged-pod" && e.object.apiGroup == "" && e.object.apiVersion == "v1")
        #expect(e.requestURI == "/api/v1/namespaces/default/pods/test-privileged-pod")
        #expect(e.response.code == 200 && e.response.grpcCode == nil)
        #expect(e.cluster == "some-project-cluster")
        #expect(e.time == EventTime(seconds: 1_707_828_306, nanoseconds: 73_905_000))
    }

    @Test func subjectAccessReviewWithLabelsAndOKStatus() throws {
        let e = try #require(Fixtures.event(Self.shapes[0], format: .gke))
        #expect(e.verb == "create")
        #expect(e.object.apiGroup == "authorization.k8s.io" && e.object.apiVersion == "v1")
        #expect(e.object.resource == "subjectaccessreviews" && e.object.namespace == nil)
        #expect(e.requestURI == "/apis/authorization.k8s.io/v1/subjectaccessreviews")
        #expect(e.response.code == 200 && e.response.grpcCode == 0 && e.response.status == "Success")
        #expect(e.authorization.decision == "allow")
        #expect(e.authorization.reason?.hasPrefix("RBAC: allowed") == true)
        #expect(e.userAgent == "webhook/v0.0.0 (linux/amd64) kubernetes/$Format")
        #expect(e.auditID == "vigil-gke-1-op")
        #expect(e.cluster == "audit-lab")
        #expect(e.time == EventTime(parsing: "2024-05-06T07:08:09.123456Z"))
    }

    @Test func clusterScopedListHasNoNamespace() throws {
        let e = try #require(Fixtures.event(Self.shapes[1]))
        #expect(e.verb == "list" && e.object.resource == "nodes" && e.object.namespace == nil)
        #expect(e.requestURI == "/api/v1/nodes")
        #expect(e.response.code == 200 && e.response.grpcCode == nil)
    }

    @Test func permissionDeniedExecMapsTo403AndKeepsGRPCCode() throws {
        let e = try #require(Fixtures.event(Self.shapes[2]))
        #expect(e.verb == "create")
        #expect(e.object.resource == "pods" && e.object.name == "api-7d9f" && e.object.subresource == "exec")
        #expect(e.object.namespace == "payments")
        #expect(e.response.code == 403 && e.response.grpcCode == 7)
        #expect(e.response.reason == "PERMISSION_DENIED" && e.response.status == "Failure")
        #expect(e.response.message == "pods \"api-7d9f\" is forbidden")
        #expect(e.authorization.decision == "forbid")
        #expect(e.user.name == "system:anonymous")
    }

    @Test func nonResourceRequestKeepsItsPath() throws {
        let e = try #require(Fixtures.event(Self.shapes[3]))
        #expect(e.verb == "get" && e.object.resource == nil)
        #expect(e.requestURI == "/readyz")
        #expect(e.sourceIP == "::1" && !e.warnings.contains(.invalidSourceIP))
        #expect(e.time?.nanoseconds == 1)
    }

    @Test func otherServicesDecodeButAreNotKubernetes() throws {
        let e = try #require(Fixtures.event(Self.shapes[4]))
        #expect(e.logType == .gcpAuditLog && !e.isKubernetes)
        #expect(e.verb == nil && e.object.resource == nil)
        #expect(e.user.name == "ops@vigil.example")
    }

    @Test func unauthenticatedMapsTo401() throws {
        let e = try #require(Fixtures.event(Self.shapes[5]))
        #expect(e.response.code == 401 && e.response.grpcCode == 16)
        #expect(e.object.resource == "secrets" && e.object.namespace == "kube-system")
        #expect(e.time == EventTime(seconds: 1_714_979_640, nanoseconds: 987_654_321))
    }

    @Test func khiEntriesReadStatusSubresourceAndOperationID() throws {
        let lines = Fixtures.lines("gke/khi-gke-k8s-audit.jsonl")
        let create = try #require(Fixtures.event(lines[0]))
        #expect(create.auditID == "85371f7c-2383-4041-96e8-dad63d2d1990")
        #expect(create.object.namespace == "1-2-deployment-update")
        #expect(create.sourceIP == "172.16.0.3")
        #expect(create.authorization.decision == "allow")
        let patch = try #require(Fixtures.event(lines[1]))
        #expect(patch.verb == "patch" && patch.object.subresource == "status")
        #expect(patch.user.name == "system:node:gke-sample-cluster-default-abcdefgh-abcd")
        #expect(patch.time == EventTime(parsing: "2024-01-01T01:00:00Z"))
    }

    /// An entry's parts are cached without its object's name (entries for other
    /// objects of the same kind find them): each entry keeps its own name and
    /// URI, and a name the rest of the object depends on (`namespaces/<name>`
    /// is also the namespace) is kept in the key.
    @Test func entriesForOtherObjectsOfTheSameKindKeepTheirOwnNameAndURI() throws {
        let decoder = try AuditRecordDecoder(format: .gke)
        func entry(_ resourceName: String) -> String {
            #"{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","resourceName":"\#(resourceName)","authenticationInfo":{"principalEmail":"a@b.c"},"requestMetadata":{"callerIp":"10.0.0.1"}},"timestamp":"2024-01-01T00:00:00Z"}"#
        }
        let cases: [(String, ObjectReference, String)] = [
            ("core/v1/namespaces/a/pods/web-1", object("pods", namespace: "a", name: "web-1"),
             "/api/v1/namespaces/a/pods/web-1"),
            ("core/v1/namespaces/a/pods/web-2", object("pods", namespace: "a", name: "web-2"),
             "/api/v1/namespaces/a/pods/web-2"),
            ("core/v1/namespaces/a/pods/web-2/exec", object("pods", namespace: "a", name: "web-2", sub: "exec"),
             "/api/v1/namespaces/a/pods/web-2/exec"),
            ("core/v1/namespaces/a/pods/web-3/exec", object("pods", namespace: "a", name: "web-3", sub: "exec"),
             "/api/v1/namespaces/a/pods/web-3/exec"),
            ("core/v1/namespaces/a/pods/web-3/log", object("pods", namespace: "a", name: "web-3", sub: "log"),
             "/api/v1/namespaces/a/pods/web-3/log"),
            ("core/v1/namespaces/b/pods/web-3", object("pods", namespace: "b", name: "web-3"),
             "/api/v1/namespaces/b/pods/web-3"),
            ("core/v1/namespaces/team-a", object("namespaces", namespace: "team-a", name: "team-a"),
             "/api/v1/namespaces/team-a"),
            ("core/v1/namespaces/team-b", object("namespaces", namespace: "team-b", name: "team-b"),
             "/api/v1/namespaces/team-b"),
            // Five segments after `namespaces`: read as a namespaced resource (as before the cache).
            ("core/v1/namespaces/team-b/status", object("status", namespace: "team-b"), "/api/v1/namespaces/team-b/status"),
            ("core/v1/namespaces/team-c/status", object("status", namespace: "team-c"), "/api/v1/namespaces/team-c/status"),
            ("rbac.authorization.k8s.io/v1/clusterroles/admin",
             object("clusterroles", group: "rbac.authorization.k8s.io", name: "admin"),
             "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin"),
            ("rbac.authorization.k8s.io/v1/clusterroles/view",
             object("clusterroles", group: "rbac.authorization.k8s.io", name: "view"),
             "/apis/rbac.authorization.k8s.io/v1/clusterroles/view"),
            ("core/v1/nodes", object("nodes"), "/api/v1/nodes"),
            ("readyz", ObjectReference(), "/readyz"),
            ("livez", ObjectReference(), "/livez"),
        ]
        for round in 0..<2 {
            for (resourceName, expected, uri) in cases {
                let e = try #require(decoder.decode(entry(resourceName)).first?.event)
                #expect(e.object == expected, "round \(round): \(resourceName)")
                #expect(e.objectName == expected.name && e.requestURI == uri, "round \(round): \(resourceName)")
                #expect(e.verb == "get" && e.user.name == "a@b.c" && e.warnings.isEmpty, "\(resourceName)")
            }
        }
    }

    /// The edges of the segment scan: a resource path has 3 to 8 non-empty segments, anything
    /// else is not one (no object; the URI is the name itself, under `/`).
    @Test func resourceNamesAtTheEdgesOfAResourcePath() throws {
        let decoder = try AuditRecordDecoder(format: .gke)
        func entry(_ resourceName: String) -> String {
            #"{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.get","resourceName":"\#(resourceName)","authenticationInfo":{"principalEmail":"a@b.c"},"requestMetadata":{"callerIp":"10.0.0.1"}},"timestamp":"2024-01-01T00:00:00Z"}"#
        }
        let cases: [(String, ObjectReference, String)] = [
            ("apps/v1/namespaces/a/deployments/web/scale/x",
             object("deployments", group: "apps", namespace: "a", name: "web", sub: "scale"),
             "/apis/apps/v1/namespaces/a/deployments/web/scale/x"),
            ("apps/v1/namespaces/a/deployments/web/scale/x/y", ObjectReference(),
             "/apps/v1/namespaces/a/deployments/web/scale/x/y"),
            ("core/v1//pods", ObjectReference(), "/core/v1//pods"),
            ("core/v1/pods/", ObjectReference(), "/core/v1/pods/"),
            ("/core/v1/pods", ObjectReference(), "/core/v1/pods"),
            ("core/v1", ObjectReference(), "/core/v1"),
            ("core/x1/pods", ObjectReference(), "/core/x1/pods"),
        ]
        for (resourceName, expected, uri) in cases {
            let e = try #require(decoder.decode(entry(resourceName)).first?.event)
            #expect(e.object == expected, "\(resourceName)")
            #expect(e.objectName == expected.name && e.requestURI == uri, "\(resourceName)")
        }
    }

    private func object(
        _ resource: String, group: String = "", namespace: String? = nil, name: String? = nil, sub: String? = nil
    ) -> ObjectReference {
        var o = ObjectReference()
        o.resource = resource
        o.apiGroup = group
        o.apiVersion = "v1"
        o.namespace = namespace
        o.name = name
        o.subresource = sub
        return o
    }

    @Test func everyPantherGKEEntryHasACallerAndVerb() throws {
        let decoder = try AuditRecordDecoder(format: .gke)
        var withIP = 0
        for line in Fixtures.lines("gke/panther-gcp-k8s-audit-tests.jsonl") {
            let e = try #require(decoder.decode(line).first?.event)
            #expect(e.isKubernetes && e.verb != nil)
            if e.sourceIP != nil { withIP += 1 }
        }
        #expect(withIP == 40)
    }
}
