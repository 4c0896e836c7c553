import AuditEvents
import Testing

/// The decoder's cache of repeated strings never hands one event another's value.
@Suite struct StringCacheTests {
    @Test func manyDistinctLongValuesThroughOneDecoderStayDistinct() throws {
        let decoder = try AuditRecordDecoder(options: DecoderOptions(stringCacheSlots: 16))
        for i in 0..<5000 {
            let user = "system:serviceaccount:team-\(i % 97):worker-\(i)"
            let agent = "agent/\(i % 7) (linux/amd64) kubernetes/abcdef"
            let line = #"{"kind":"Event","verb":"get","user":{"username":"\#(user)","groups":["system:authenticated","group-\#(i % 3)-with-a-long-name"]},"userAgent":"\#(agent)"}"#
            let event = try #require(decoder.decode(line).first?.event)
            #expect(event.user.name == user)
            #expect(event.userAgent == agent)
            #expect(event.user.groups == ["system:authenticated", "group-\(i % 3)-with-a-long-name"])
        }
    }

    @Test func disabledCacheDecodesTheSame() throws {
        let line = try #require(Fixtures.lines("aks/dynatrace-kube-audit.jsonl").first)
        let cached = try #require(try AuditRecordDecoder().decode(line).first?.event)
        let uncached = try #require(try AuditRecordDecoder(options: DecoderOptions(stringCacheSlots: 0)).decode(line).first?.event)
        #expect(cached == uncached)
    }

    @Test func sharedEventPartsFollowEachEventsOwnContent() throws {
        let decoder = try AuditRecordDecoder()
        func line(name: String, code: String, groups: String) -> String {
            #"{"kind":"Event","verb":"get","requestURI":"/api/v1/namespaces/a/pods/\#(name)","user":{"username":"alice@example.com","groups":\#(groups)},"objectRef":{"resource":"pods","namespace":"a","name":"\#(name)"},"responseStatus":{"code":\#(code)},"sourceIPs":["10.0.0.1"]}"#
        }
        let a = try #require(decoder.decode(line(name: "web-1", code: "200", groups: #"["dev"]"#)).first?.event)
        let b = try #require(decoder.decode(line(name: "web-2", code: "200", groups: #"["dev"]"#)).first?.event)
        let again = try #require(decoder.decode(line(name: "web-1", code: "200", groups: #"["dev"]"#)).first?.event)
        #expect(a.object.name == "web-1" && b.object.name == "web-2" && again.object.name == "web-1")
        #expect(b.requestURI == "/api/v1/namespaces/a/pods/web-2")
        #expect(a == again && a != b)
        // Same content but a mistyped member: decoded field by field, with its warning.
        let coerced = try #require(decoder.decode(line(name: "web-1", code: #""403""#, groups: #"["dev"]"#)).first?.event)
        #expect(coerced.response.code == 403 && coerced.warnings.contains(.coercedType))
        let lone = try #require(decoder.decode(line(name: "web-1", code: "200", groups: #""dev""#)).first?.event)
        #expect(lone.user.groups == ["dev"] && lone.warnings.contains(.coercedType))
        #expect(!a.warnings.contains(.coercedType))
        // The same event decoded without any cache is equal.
        let uncached = try AuditRecordDecoder(options: DecoderOptions(stringCacheSlots: 0))
        #expect(try #require(uncached.decode(line(name: "web-2", code: "200", groups: #"["dev"]"#)).first?.event) == b)
    }

    @Test func setterOnASharedPartChangesOnlyThatEvent() throws {
        let decoder = try AuditRecordDecoder()
        let text = #"{"kind":"Event","verb":"get","user":{"username":"bob"},"sourceIPs":["10.0.0.2"]}"#
        var first = try #require(decoder.decode(text).first?.event)
        let second = try #require(decoder.decode(text).first?.event)
        first.user.name = "mallory"
        first.verb = "delete"
        #expect(first.user.name == "mallory" && first.verb == "delete")
        #expect(second.user.name == "bob" && second.verb == "get")
    }
}
