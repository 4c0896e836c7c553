import AuditEvents
import Testing

/// `vigil decode` output: one JSON line per event with the documented names.
@Suite struct OutputLineTests {
    @Test func jsonLineHasTheDocumentedFieldsAndParses() throws {
        let line = try #require(Fixtures.lines("eks/splunk-security-content-example.jsonl").first)
        let event = try #require(Fixtures.event(line, format: .eks))
        let out = RawJSON(event.jsonLine())
        #expect(out.value(at: "log_type") == .string("Amazon.EKS.Audit"))
        #expect(out.value(at: "time") == .string("2023-12-07T14:44:53.358394Z"))
        #expect(out.value(at: #""source.ip""#) == .string("176.95.188.101"))
        #expect(out.value(at: #""source.ips""#) == .array([.string("176.95.188.101")]))
        #expect(out.value(at: #""user.name""#) == .string("k8s-test-user"))
        #expect(out.value(at: #""user.groups""#) == .array([.string("system:authenticated")]))
        #expect(out.value(at: "verb") == .string("create"))
        #expect(out.value(at: #""object.resource""#) == .string("jobs"))
        #expect(out.value(at: #""object.namespace""#) == .string("test2"))
        #expect(out.value(at: #""request.uri""#) == .string("/apis/batch/v1/namespaces/test2/jobs?fieldManager=kubectl-create&fieldValidation=Strict"))
        #expect(out.value(at: #""response.code""#) == .int(403))
        #expect(out.value(at: "user_agent") == .string("kubectl/v1.27.2 (darwin/arm64) kubernetes/7f6f68f"))
        #expect(out.value(at: "stage") == .string("ResponseComplete"))
        #expect(out.value(at: "cluster") == nil)
    }

    @Test func writerEscapesControlCharactersAndQuotes() {
        let value = JSONValue.object([.init(key: "k\"", value: .string("a\u{1}b\n\"\\é"))])
        #expect(value.jsonText == #"{"k\"":"a\u0001b\n\"\\é"}"#)
        #expect(RawJSON(value.jsonText).document == value)
    }
}
