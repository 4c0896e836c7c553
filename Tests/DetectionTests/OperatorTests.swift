import Testing
@testable import Detection

@Suite struct OperatorTests {
    private func holds(_ text: String, _ fields: [String: FieldValues], tor: Set<String> = []) throws -> Bool {
        try Condition(text).evaluate(DictionaryContext(fields, torExitNodes: tor))
    }

    @Test func equalityIsCaseSensitiveAndColonIsNot() throws {
        #expect(try holds(#"verb == "get""#, ["verb": "get"]))
        #expect(try !holds(#"verb == "GET""#, ["verb": "get"]))
        #expect(try holds(#"verb : "GET""#, ["verb": "get"]))
        #expect(try holds(#"verb : ("LIST", "Get")"#, ["verb": "get"]))
        #expect(try holds(#"response.code : 403"#, ["response.code": 403]))
        #expect(try holds(#"verb != "list""#, ["verb": "get"]))
        #expect(try !holds(#"verb != "get""#, ["verb": "get"]))
    }

    @Test func colonWithWildcardsMatchesCaseInsensitively() throws {
        #expect(try holds(#"process.name : "KUBE*""#, ["process.name": "kubectl"]))
        #expect(try !holds(#"process.name : "kube""#, ["process.name": "kubectl"]))
    }

    @Test func orderingComparesNumbersNumericallyAndStringsLexically() throws {
        let f: [String: FieldValues] = ["n": 10, "s": "b"]
        #expect(try holds("n > 9 and n >= 10 and n < 11 and n <= 10", f))
        #expect(try !holds("n > 10 or n < 10", f))
        #expect(try holds(#"s > "a" and s < "c" and s >= "b" and s <= "b""#, f))
        // A numeric string compares as a number against a number literal.
        #expect(try holds("code >= 400", ["code": "403"]))
        #expect(try !holds("code >= 400", ["code": "forbidden"]))
    }

    @Test func equalityCoercesNumbersAndBoolsWrittenAsText() throws {
        #expect(try holds("code == 403", ["code": "403"]))
        #expect(try holds(#"code == "403""#, ["code": 403]))
        #expect(try holds("interactive == true", ["interactive": "true"]))
        #expect(try holds("code in (401, 403)", ["code": "403"]))
        #expect(try holds(#"code in ("401", "403")"#, ["code": 403]))
    }

    @Test func inIsCaseSensitiveAndInTildeIsNot() throws {
        #expect(try holds(#"process.name in ("curl", "wget")"#, ["process.name": "wget"]))
        #expect(try !holds(#"process.name in ("curl", "wget")"#, ["process.name": "WGET"]))
        #expect(try holds(#"process.name in~ ("curl", "wget")"#, ["process.name": "WGET"]))
        #expect(try holds(#"process.name not in ("curl", "wget")"#, ["process.name": "sh"]))
        #expect(try !holds(#"process.name not in ("curl", "wget")"#, ["process.name": "curl"]))
    }

    @Test func likeMatchesTheWholeStringWithStarAndQuestionMark() throws {
        let f: [String: FieldValues] = ["uri": "/api/v1/secrets"]
        #expect(try holds(#"uri like "/api/*""#, f))
        #expect(try holds(#"uri like "*secrets""#, f))
        #expect(try holds(#"uri like "*v1*""#, f))
        #expect(try holds(#"uri like "/api/v?/*ts""#, f))
        #expect(try holds(#"uri like "/api/v1/secrets""#, f))
        #expect(try !holds(#"uri like "/api""#, f))
        #expect(try !holds(#"uri like "api/*""#, f))
        #expect(try !holds(#"uri like "/api/v?""#, f))
        #expect(try holds(#"uri like "*""#, f))
        #expect(try holds(#"uri like "*a*i*s*""#, f))
        #expect(try holds(#"e like "?""#, ["e": "é"]))
    }

    @Test func likeIsCaseSensitiveAndLikeTildeIsNot() throws {
        let f: [String: FieldValues] = ["ua": "Kubectl/v1.29"]
        #expect(try !holds(#"ua like "kubectl/*""#, f))
        #expect(try holds(#"ua like~ "kubectl/*""#, f))
        #expect(try holds(#"ua like~ "KUBECTL/V1.2?""#, f))
    }

    @Test func likeTakesAListOfPatterns() throws {
        let f: [String: FieldValues] = ["uri": "/apis/apps/v1"]
        #expect(try holds(#"uri like ("/api/*", "/apis/*")"#, f))
        #expect(try !holds(#"uri like ("/api/*", "/healthz")"#, f))
        #expect(try holds(#"uri like~ ("/APIS/*")"#, f))
        #expect(try holds(#"uri not like ("/api/*", "/healthz")"#, f))
    }

    @Test func stringFunctions() throws {
        let f: [String: FieldValues] = ["ua": "kubectl/v1.29 (linux/amd64)"]
        #expect(try holds(#"startsWith(ua, "kubectl/")"#, f))
        #expect(try holds(#"startsWith(ua, "curl/", "kubectl/")"#, f))
        #expect(try !holds(#"startsWith(ua, "Kubectl/")"#, f))
        #expect(try holds(#"startsWith~(ua, "KUBECTL/")"#, f))
        #expect(try holds(#"endsWith(ua, "amd64)")"#, f))
        #expect(try holds(#"endsWith~(ua, "AMD64)")"#, f))
        #expect(try holds(#"stringContains(ua, "linux")"#, f))
        #expect(try !holds(#"stringContains(ua, "LINUX")"#, f))
        #expect(try holds(#"stringContains~(ua, "LINUX")"#, f))
        #expect(try holds(#"STARTSWITH(ua, "kube")"#, f))
    }

    @Test func lengthCountsCharacters() throws {
        #expect(try holds("length(user.name) == 5", ["user.name": "alice"]))
        #expect(try holds("length(user.name) > 3", ["user.name": "alice"]))
        #expect(try !holds("length(user.name) > 0", [:]))
    }

    @Test func cidrMatchTakesNetworksAndBareAddresses() throws {
        let text = #"cidrMatch(source.ip, "10.0.0.0/8", "192.168.1.7", "2001:db8::/32")"#
        #expect(try holds(text, ["source.ip": "10.2.3.4"]))
        #expect(try holds(text, ["source.ip": "192.168.1.7"]))
        #expect(try !holds(text, ["source.ip": "192.168.1.8"]))
        #expect(try holds(text, ["source.ip": "2001:db8::1"]))
        #expect(try !holds(text, ["source.ip": "not-an-ip"]))
    }

    @Test func isPublicFollowsPythonIsGlobal() throws {
        #expect(try holds("isPublic(source.ip)", ["source.ip": "5.5.5.5"]))
        #expect(try holds("isPublic(source.ip)", ["source.ip": "2600:1f18::1"]))
        for ip in ["10.0.0.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "192.0.2.1", "::1", "fe80::1", "nonsense"] {
            #expect(try !holds("isPublic(source.ip)", ["source.ip": .one(.string(ip))]), "\(ip)")
        }
        #expect(try holds(#"isPublic("8.8.8.8")"#, [:]))
    }

    @Test func isTorExitAsksTheContext() throws {
        #expect(try holds("isTorExit(source.ip)", ["source.ip": "5.5.5.5"], tor: ["5.5.5.5"]))
        #expect(try !holds("isTorExit(source.ip)", ["source.ip": "6.6.6.6"], tor: ["5.5.5.5"]))
        #expect(try !holds("isTorExit(source.ip)", [:], tor: ["5.5.5.5"]))
    }

    @Test func geoFieldsAreOrdinaryFields() throws {
        let f: [String: FieldValues] = ["source.geo.country_iso_code": "DE", "source.geo.city_name": "Berlin"]
        #expect(try holds(#"source.geo.country_iso_code in ("DE", "FR") and source.geo.city_name : "berlin""#, f))
    }
}
