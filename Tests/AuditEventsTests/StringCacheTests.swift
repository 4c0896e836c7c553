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
}
