import Testing
@testable import Detection

/// Multi-valued fields and missing fields: EQL semantics.
@Suite struct SemanticsTests {
    private func holds(_ text: String, _ fields: [String: FieldValues]) throws -> Bool {
        try Condition(text).evaluate(DictionaryContext(fields))
    }

    private let groups: [String: FieldValues] = ["user.groups": ["system:unauthenticated", "system:public"]]

    @Test func aComparisonHoldsIfAnyElementSatisfiesIt() throws {
        #expect(try holds(#"user.groups == "system:unauthenticated""#, groups))
        #expect(try holds(#"user.groups == "system:public""#, groups))
        #expect(try holds(#"user.groups : "SYSTEM:PUBLIC""#, groups))
        #expect(try holds(#"user.groups in ("x", "system:public")"#, groups))
        #expect(try holds(#"user.groups like "*:unauth*""#, groups))
        #expect(try holds(#"startsWith(user.groups, "system:pub")"#, groups))
        #expect(try holds("n > 5", ["n": [1, 9]]))
        #expect(try holds("isPublic(ips)", ["ips": ["10.0.0.1", "8.8.8.8"]]))
    }

    @Test func notEqualHoldsOnlyWhenNoElementEquals() throws {
        #expect(try !holds(#"user.groups != "system:public""#, groups))
        #expect(try holds(#"user.groups != "system:masters""#, groups))
        #expect(try !holds(#"user.groups not in ("system:public")"#, groups))
    }

    @Test func aMissingFieldMakesEveryComparisonFalse() throws {
        for text in [#"verb == "get""#, #"verb != "get""#, "verb < 1", "verb >= 1", #"verb : "x""#,
                     #"verb in ("get")"#, #"verb not in ("get")"#, #"verb like "*""#, #"verb not like "x""#,
                     #"startsWith(verb, "")"#, #"cidrMatch(verb, "0.0.0.0/0")"#, "isPublic(verb)",
                     "isTorExit(verb)", "length(verb) >= 0", "verb"] {
            #expect(try !holds(text, [:]), "\(text)")
        }
    }

    @Test func notOfAComparisonOnAMissingFieldIsTrue() throws {
        // The way to say "absent or different": negate the whole comparison.
        #expect(try holds(#"not verb == "get""#, [:]))
        #expect(try !holds(#"verb != "get""#, [:]))
    }

    @Test func nullTestsPresence() throws {
        #expect(try holds("verb == null", [:]))
        #expect(try !holds("verb == null", ["verb": "get"]))
        #expect(try holds("verb != null", ["verb": "get"]))
        #expect(try holds("null != verb", ["verb": "get"]))
        #expect(try !holds("verb != null", [:]))
        #expect(try holds("verb == null", ["verb": []]))
    }

    @Test func valuesOfTheWrongTypeDoNotMatch() throws {
        #expect(try !holds(#"n like "1*""#, ["n": 12]))
        #expect(try !holds(#"startsWith(b, "t")"#, ["b": true]))
        #expect(try !holds(#"n > "a""#, ["n": 1]))
    }

    @Test func fieldToFieldComparisonUsesAnyPair() throws {
        #expect(try holds("a == b", ["a": ["x", "y"], "b": ["y", "z"]]))
        #expect(try !holds("a == b", ["a": ["x"], "b": ["z"]]))
    }
}
