import Testing
@testable import Detection

@Suite struct ParserTests {
    private func holds(_ text: String, _ fields: [String: FieldValues]) throws -> Bool {
        try Condition(text).evaluate(DictionaryContext(fields))
    }

    @Test func andBindsTighterThanOr() throws {
        // a or (b and c): true because a holds even though c does not.
        #expect(try holds("a == 1 or b == 1 and c == 1", ["a": 1, "b": 1, "c": 0]))
        #expect(try !holds("(a == 1 or b == 1) and c == 1", ["a": 1, "b": 1, "c": 0]))
    }

    @Test func notBindsTighterThanAnd() throws {
        // (not a) and b
        #expect(try !holds("not a == 1 and b == 1", ["a": 1, "b": 1]))
        #expect(try holds("not a == 1 and b == 1", ["a": 2, "b": 1]))
        #expect(try holds("not (a == 1 and b == 1)", ["a": 1, "b": 2]))
        #expect(try holds("not not a == 1", ["a": 1]))
    }

    @Test func keywordsAndLayoutAcrossLines() throws {
        let text = """
        verb == "get"
          and (user.name == "alice"
               or user.name == "bob")
        """
        #expect(try holds(text, ["verb": "get", "user.name": "bob"]))
    }

    @Test func quotedAndBacktickedSegmentsNameKeysWithDotsAndSlashes() throws {
        let fields: [String: FieldValues] = [#"annotations."authorization.k8s.io/decision""#: "forbid"]
        #expect(try holds(#"annotations."authorization.k8s.io/decision" == "forbid""#, fields))
        #expect(try holds("annotations.`authorization.k8s.io/decision` == \"forbid\"", fields))
        let reference = try #require(FieldReference(#"annotations."authorization.k8s.io/decision""#))
        #expect(reference.dottedName == "annotations.authorization.k8s.io/decision")
    }

    @Test func fieldNamesResolveToNormalizedGeoOrRawPaths() throws {
        #expect(FieldReference("user.name")?.normalized == .userName)
        #expect(FieldReference("`user.name`")?.normalized == nil) // FieldPath text, not condition text
        #expect(FieldReference("source.geo.country_iso_code")?.geo == .countryISOCode)
        #expect(FieldReference("responseStatus.code")?.normalized == nil)
        #expect(try holds("sourceIPs[1] == \"2.2.2.2\"", ["sourceIPs[1]": "2.2.2.2"]))
    }

    @Test func categoryWherePrefixChecksEventCategory() throws {
        #expect(try holds(#"process where process.name == "sh""#, ["event.category": ["process"], "process.name": "sh"]))
        #expect(try !holds(#"process where process.name == "sh""#, ["event.category": "network", "process.name": "sh"]))
        #expect(try holds(#"any where process.name == "sh""#, ["process.name": "sh"]))
    }

    @Test func literalsOfEveryKind() throws {
        #expect(try holds("a == -1.5", ["a": -1.5]))
        #expect(try holds("a == true and b == false", ["a": true, "b": false]))
        #expect(try holds(#"a == "tab\there \"q\"""#, ["a": "tab\there \"q\""]))
        #expect(try holds(#"a == """C:\raw\path""""#, ["a": #"C:\raw\path"#]))
        #expect(try holds("true", [:]))
        #expect(try !holds("false", [:]))
    }

    @Test func bareFieldHoldsWhenTrue() throws {
        #expect(try holds("process.interactive", ["process.interactive": true]))
        #expect(try !holds("process.interactive", ["process.interactive": false]))
        #expect(try !holds("process.interactive", [:]))
    }

    @Test func compiledConditionKeepsItsText() throws {
        let c = try Condition("a == 1")
        #expect(c.description == "a == 1")
        #expect(c == (try Condition("a == 1")))
    }
}

extension ParserTests {
    @Test func conditionListsTheFieldsItReads() throws {
        let c = try Condition(#"verb == "get" and (length(user.name) > 1 or not verb in ("x")) and isPublic(source.ip)"#)
        #expect(c.fields.map(\.name) == ["verb", "user.name", "source.ip"])
    }
}
