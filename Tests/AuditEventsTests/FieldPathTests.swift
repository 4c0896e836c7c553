import AuditEvents
import Testing

@Suite struct FieldPathTests {
    static let doc = RawJSON(#"{"annotations":{"authorization.k8s.io/decision":"allow"},"sourceIPs":["1.1.1.1","2.2.2.2"],"containers":[{"name":"a","ports":[80]},{"name":"b","ports":[443,8443]}],"container":{"image.name":"nginx"},"event.action":"exec","a":{"b":{"c":null}}}"#)

    @Test func parsesQuotedDottedAndIndexedSegments() throws {
        let path = try FieldPath(#"annotations."authorization.k8s.io/decision""#)
        #expect(path.segments == [.key("annotations"), .key("authorization.k8s.io/decision")])
        #expect(try FieldPath("sourceIPs[1]").segments == [.key("sourceIPs"), .index(1)])
        #expect(try FieldPath(#"a."x\"y".b"#).segments == [.key("a"), .key("x\"y"), .key("b")])
        #expect(try FieldPath(#"annotations."authorization.k8s.io/decision""#).description
                == #"annotations."authorization.k8s.io/decision""#)
    }

    @Test(arguments: ["", ".a", "a.", "a..b", "a[x]", "a[-1]", #"a."b"#, #"a"b""#])
    func rejectsInvalidPaths(text: String) {
        #expect(throws: AuditEventsError.self) { try FieldPath(text) }
    }

    @Test func resolvesKeysWithDotsAndSlashes() {
        #expect(Self.doc.value(at: #"annotations."authorization.k8s.io/decision""#) == .string("allow"))
    }

    @Test func resolvesIndexesAndFansOutOverArrays() {
        #expect(Self.doc.value(at: "sourceIPs[1]") == .string("2.2.2.2"))
        #expect(Self.doc.value(at: "sourceIPs[2]") == nil)
        #expect(Self.doc.value(at: "containers.name") == .array([.string("a"), .string("b")]))
        #expect(Self.doc.value(at: "containers.ports") == .array([.int(80), .int(443), .int(8443)]))
        #expect(Self.doc.value(at: "containers[1].name") == .string("b"))
    }

    @Test func resolvesDottedKeysAsNested() {
        #expect(Self.doc.value(at: "container.image.name") == .string("nginx"))
        #expect(Self.doc.value(at: "event.action") == .string("exec"))
    }

    @Test func missingAndNullAreDistinct() {
        #expect(Self.doc.value(at: "a.b.c") == .null)
        #expect(Self.doc.value(at: "a.b.d") == nil)
        #expect(Self.doc.value(at: "sourceIPs.x") == nil)
    }

    @Test func extractedPathsAreReadDuringTheOneParse() throws {
        let paths = [try FieldPath("requestObject.spec.containers.securityContext.privileged"),
                     try FieldPath("nope"), try FieldPath("category")]
        let decoder = try AuditRecordDecoder(options: DecoderOptions(extractedPaths: paths))
        let line = #"{"category":"kube-audit","properties":{"log":"{\"verb\":\"create\",\"requestObject\":{\"spec\":{\"containers\":[{\"securityContext\":{\"privileged\":true}}]}}}"}}"#
        let event = try #require(decoder.decode(line).first?.event)
        #expect(event.extracted == [.array([.bool(true)]), nil, .string("kube-audit")])
    }

    @Test func valueNamedPrefersNormalizedNames() throws {
        let line = try #require(Fixtures.lines("eks/splunk-security-content-example.jsonl").first)
        let event = try #require(Fixtures.event(line))
        #expect(event.value(named: "source.ip") == .string("176.95.188.101"))
        #expect(event.value(named: "response.code") == .int(403))
        #expect(event.value(named: "objectRef.apiGroup") == .string("batch"))
        #expect(event.value(named: "user.groups") == .array([.string("system:authenticated")]))
    }
}
