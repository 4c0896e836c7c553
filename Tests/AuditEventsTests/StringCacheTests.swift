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

    /// The request URI and the object's name are each event's own (not in the shared parts):
    /// events of one user on one kind of object keep theirs through the setters and the
    /// compact (repartition) encoding.
    @Test func requestURIAndObjectNameAreEachEventsOwn() throws {
        let decoder = try AuditRecordDecoder()
        func line(_ name: String, _ uri: String) -> String {
            #"{"kind":"Event","verb":"get","requestURI":"\#(uri)","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"a","name":"\#(name)"},"sourceIPs":["10.0.0.1"]}"#
        }
        let a = try #require(decoder.decode(line("web-1", "/api/v1/namespaces/a/pods/web-1")).first?.event)
        var b = try #require(decoder.decode(line("web-2", "/api/v1/namespaces/a/pods/web-2?watch=1")).first?.event)
        #expect(a.objectName == "web-1" && a.object.name == "web-1" && a.requestURI == "/api/v1/namespaces/a/pods/web-1")
        #expect(b.objectName == "web-2" && b.value(of: .objectName) == .string("web-2"))
        #expect(b.requestURI == "/api/v1/namespaces/a/pods/web-2?watch=1")
        var object = b.object
        object.name = "db-0"
        object.resource = "statefulsets"
        b.object = object
        b.requestURI = "/apis/apps/v1/namespaces/a/statefulsets/db-0"
        #expect(b.objectName == "db-0" && b.objectResource == "statefulsets" && b.object == object)
        #expect(a.objectName == "web-1" && a.objectResource == "pods" && a.requestURI == "/api/v1/namespaces/a/pods/web-1")
        let compact = CompactEventDecoder()
        for event in [a, b, a] {
            var w = CompactWriter()
            event.writeCompact(into: &w, documents: true)
            let back = w.bytes.withUnsafeBufferPointer { bytes in
                var r = compact.reader(bytes)
                return compact.readEvent(&r).event
            }
            #expect(back == event && back?.objectName == event.objectName && back?.requestURI == event.requestURI)
        }
    }
}

/// Source IPs are looked up apart from the other shared parts: events that
/// share a user, object and request keep their own addresses and warnings.
@Suite struct SourceIPPartTests {
    static func event(ips: String) -> String {
        #"{"kind":"Event","verb":"list","requestURI":"/api/v1/pods","user":{"username":"kubelet"},"objectRef":{"resource":"pods"},"responseStatus":{"code":200},"sourceIPs":\#(ips)}"#
    }

    @Test func partKeysTellApartValuesThatDifferPastTheirFirst16Bytes() throws {
        // Part keys copy a string of up to 32 bytes as two 16-byte moves: values of 15 to 33
        // bytes that differ only at their end must each key (and so decode to) their own parts.
        let decoder = try AuditRecordDecoder()
        // Stems of 15, 17, 1, 31 and 32 bytes: the tails end values at bytes 16, 17, 32, 33 and on.
        let stems = ["kubectl/v1.29.4", "kubectl/v1.29.4 (", "x", "controller-manager/v1.30 (linux",
                     "kube-proxy/v1.29.1 (linux) build"]
        for stem in stems {
            for tail in ["a", "b", "ab", "ba", "abc", "acb", "linux/amd64)", "linux/arm64)"] {
                let agent = stem + tail
                let user = "u:" + stem + tail
                let line = #"{"kind":"Event","verb":"get","userAgent":"\#(agent)","user":{"username":"\#(user)","groups":["\#(user)"]},"sourceIPs":["10.0.0.1","10.0.\#(tail.count).\#(tail.utf8.first ?? 0)"]}"#
                for _ in 0..<2 {
                    let event = try #require(decoder.decode(line).first?.event)
                    #expect(event.userAgent == agent)
                    #expect(event.user.name == user && event.user.groups == [user])
                    #expect(event.sourceIPs == ["10.0.0.1", "10.0.\(tail.count).\(tail.utf8.first ?? 0)"])
                }
            }
        }
    }

    @Test func eventsWithTheSamePartsKeepTheirOwnSourceIPs() throws {
        let decoder = try AuditRecordDecoder()
        let cases: [(String, [String], DecodeWarnings)] = [
            (#"["10.0.0.1"]"#, ["10.0.0.1"], []),
            (#"["203.0.113.9","10.0.0.1"]"#, ["203.0.113.9", "10.0.0.1"], []),
            (#"["not-an-ip"]"#, ["not-an-ip"], .invalidSourceIP),
            ("[]", [], .missingSourceIP),
            ("null", [], .missingSourceIP),
            (#""10.0.0.7""#, ["10.0.0.7"], .coercedType),
            (#"["10.0.0.1"]"#, ["10.0.0.1"], []),
        ]
        for round in 0..<2 {
            for (ips, expected, warnings) in cases {
                let event = try #require(decoder.decode(Self.event(ips: ips)).first?.event)
                #expect(event.sourceIPs == expected, "round \(round): \(ips)")
                #expect(event.sourceIP == expected.first)
                #expect(event.warnings.intersection([.invalidSourceIP, .missingSourceIP, .coercedType]) == warnings,
                        "round \(round): \(ips)")
                #expect(event.verb == "list" && event.user.name == "kubelet" && event.response.code == 200)
            }
        }
    }

    @Test func manyDistinctSingleAddressesStayDistinct() throws {
        // Lists of one address of up to 15 bytes are cached by the address's bytes as two words
        // and its length: 2,000 addresses of every length from 1 to 15 bytes and 2,000 of 15
        // bytes with the same first 8 (more than the cache's slots, so they share slots), twice,
        // each event with its own list and warning.
        let decoder = try AuditRecordDecoder()
        let gke = try AuditRecordDecoder(format: .gke)
        let addresses = (0..<2000).map { n -> String in
            let ip = "\(n % 251).\(n / 251 % 256).\(n % 7).\(n % 13)"
            return n % 3 == 0 ? ip : String(ip.prefix(1 + n % 15))
        } + (0..<2000).map { n in "172.16.\(100 + n / 40).\(100 + n % 40)" }
        for round in 0..<2 {
            for ip in addresses {
                let valid = ip.split(separator: ".", omittingEmptySubsequences: false).count == 4
                    && !ip.hasSuffix(".")
                let event = try #require(decoder.decode(Self.event(ips: #"["\#(ip)"]"#)).first?.event)
                #expect(event.sourceIPs == [ip], "round \(round)")
                #expect(event.warnings.contains(.invalidSourceIP) == !valid, "\(ip)")
                let entry = #"{"protoPayload":{"serviceName":"k8s.io","requestMetadata":{"callerIp":"\#(ip)"}}}"#
                let gkeEvent = try #require(gke.decode(entry).first?.event)
                #expect(gkeEvent.sourceIPs == [ip], "round \(round)")
                #expect(gkeEvent.warnings.contains(.invalidSourceIP) == !valid, "\(ip)")
            }
        }
    }

    @Test func gkeEntriesWithTheSamePartsKeepTheirOwnCallerIP() throws {
        let decoder = try AuditRecordDecoder(format: .gke)
        func entry(_ metadata: String) -> String {
            #"{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.list","resourceName":"core/v1/namespaces/a/pods","authenticationInfo":{"principalEmail":"a@b.c"},"requestMetadata":\#(metadata)},"timestamp":"2024-01-01T00:00:00Z"}"#
        }
        let cases: [(String, [String], DecodeWarnings)] = [
            (#"{"callerIp":"203.0.113.5"}"#, ["203.0.113.5"], []),
            (#"{"callerIP":"198.51.100.7"}"#, ["198.51.100.7"], []),
            (#"{"callerIp":"gce-internal"}"#, ["gce-internal"], .invalidSourceIP),
            ("{}", [], .missingSourceIP),
            (#""203.0.113.5""#, [], [.missingSourceIP, .wrongType]),
            (#"{"callerIp":7}"#, ["7"], [.coercedType, .invalidSourceIP]),
            (#"{"callerIp":"203.0.113.5"}"#, ["203.0.113.5"], []),
        ]
        for (metadata, expected, warnings) in cases {
            let event = try #require(decoder.decode(entry(metadata)).first?.event)
            #expect(event.sourceIPs == expected, "\(metadata)")
            #expect(event.warnings.intersection([.invalidSourceIP, .missingSourceIP, .coercedType, .wrongType])
                    == warnings, "\(metadata)")
            #expect(event.verb == "list" && event.object.namespace == "a")
        }
    }

    @Test func aksRecordsOfAlternatingClustersEachNameTheirOwn() throws {
        let decoder = try AuditRecordDecoder(format: .aks)
        func record(_ cluster: String) -> String {
            let log = #"{\"kind\":\"Event\",\"verb\":\"get\",\"sourceIPs\":[\"10.0.0.1\"]}"#
            return #"{"category":"kube-audit","resourceId":"/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/\#(cluster)","properties":{"log":"\#(log)"}}"#
        }
        for cluster in ["AKS-ONE", "AKS-ONE", "aks-two", "AKS-ONE", "aks-two", "aks-two"] {
            #expect(decoder.decode(record(cluster)).first?.event?.cluster == cluster)
        }
        let noID = #"{"category":"kube-audit","properties":{"log":"{\"kind\":\"Event\",\"verb\":\"get\"}"}}"#
        #expect(decoder.decode(noID).first?.event?.cluster == nil)
    }
}
