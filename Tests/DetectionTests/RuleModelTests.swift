import Testing
@testable import Detection

@Suite struct RuleDurationTests {
    @Test(arguments: [("30s", 30), ("30m", 1800), ("60m", 3600), ("1h", 3600), ("2d", 172_800)] as [(String, Int64)])
    func durationsParseToSeconds(text: String, seconds: Int64) {
        #expect(RuleDuration(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "m", "30", "30x", "0m", "-5m", "1.5h", " 30m", "30 m", "99999999999999999d"])
    func malformedDurationsAreRejected(text: String) {
        #expect(RuleDuration(parsing: text) == nil)
    }

    @Test func durationsPrintInTheirLargestWholeUnit() {
        #expect(RuleDuration(seconds: 3600).description == "1h")
        #expect(RuleDuration(seconds: 1800).description == "30m")
        #expect(RuleDuration(seconds: 90).description == "90s")
    }
}

@Suite struct TitleTemplateTests {
    @Test func aTemplateRendersFieldsFromTheEvent() throws {
        let template = try TitleTemplate("Kubernetes API activity from Tor exit node [{source.ip}] by user [{user.name}]")
        #expect(template.fields.map(\.name) == ["source.ip", "user.name"])
        let context = DictionaryContext(["source.ip": "1.2.3.4", "user.name": "admin@example.com"])
        #expect(template.render(context)
                == "Kubernetes API activity from Tor exit node [1.2.3.4] by user [admin@example.com]")
    }

    @Test func missingFieldsRenderTheirDefaultOrNothing() throws {
        let template = try TitleTemplate("ns [{object.namespace|<NO_OBJECT_NAMESPACE>}] user [{user.name}]")
        #expect(template.render(DictionaryContext([:])) == "ns [<NO_OBJECT_NAMESPACE>] user []")
    }

    @Test func numbersAndListsRenderAsText() throws {
        let template = try TitleTemplate("{response.code} {user.groups} {{literal}}")
        let context = DictionaryContext(["response.code": 403, "user.groups": ["a", "b"]])
        #expect(template.render(context) == "403 a,b {literal}")
    }

    @Test func quotedKeysWork() throws {
        let template = try TitleTemplate(#"[{annotations."authorization.k8s.io/decision"}]"#)
        #expect(template.render(DictionaryContext(["annotations.authorization.k8s.io/decision": "forbid"])) == "[forbid]")
    }

    @Test(arguments: [("a {b", 2), ("a {} b", 2), ("a } b", 2), ("x {a..b}", 2)] as [(String, Int)])
    func brokenTemplatesSayWhere(text: String, offset: Int) {
        #expect(throws: TitleTemplate.ParseError.self) { try TitleTemplate(text) }
        do { _ = try TitleTemplate(text) } catch { #expect(error.offset == offset, "\(error)") }
    }

    @Test func statisticsParse() throws {
        #expect(try StatisticFunction.parse("count").get() == .count)
        #expect(try StatisticFunction.parse("dc(user.name)").get() == .distinctCount(FieldReference("user.name")!))
        #expect(try StatisticFunction.parse("max( response.code )").get() == .max(FieldReference("response.code")!))
        #expect((try? StatisticFunction.parse("avg(x)").get()) == nil)
    }
}
