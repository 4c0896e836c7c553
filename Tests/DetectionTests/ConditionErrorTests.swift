import Testing
@testable import Detection

@Suite struct ConditionErrorTests {
    private func error(_ text: String) -> ConditionError? {
        do {
            _ = try Condition(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func messageShowsLineColumnSourceAndCaret() throws {
        let e = try #require(error(#"user.name == "a" and and verb == "get""#))
        #expect(e.code == .unexpectedToken)
        #expect(e.line == 1 && e.column == 22)
        #expect(e.message == """
        1:22: expected a field, literal or function, found 'and'
        user.name == "a" and and verb == "get"
                             ^~~
        """)
    }

    @Test func errorOnALaterLineReportsThatLine() throws {
        let e = try #require(error("verb == \"get\"\n  and user.name = \"x\""))
        #expect(e.line == 2 && e.column == 17)
        #expect(e.sourceLine == "  and user.name = \"x\"")
        #expect(e.message.hasSuffix("  and user.name = \"x\"\n                ^"))
        #expect(e.detail.contains("use '=='"))
    }

    @Test func unterminatedStringPointsAtItsQuote() throws {
        let e = try #require(error(#"a == "open"#))
        #expect(e.code == .unterminatedString)
        #expect(e.column == 6)
    }

    @Test func missingParenthesisPointsAtTheEnd() throws {
        let e = try #require(error("(a == 1 or b == 2"))
        #expect(e.code == .unexpectedEnd)
        #expect(e.column == 18)
        #expect(e.detail == "expected ')', found end of condition")
    }

    /// Nesting is bounded: a rule file of many thousand `(` is refused with an error, not a
    /// stack overflow of the process that loads it (a reload inside `vigil run`).
    @Test func nestingPastTheLimitIsAnErrorNotAStackOverflow() throws {
        let limit = ConditionParser.maxNesting
        func nested(_ depth: Int) -> [String] {
            [String(repeating: "(", count: depth) + "a == 1" + String(repeating: ")", count: depth),
             String(repeating: "not ", count: depth) + "a == 1",
             String(repeating: "length(", count: depth) + "a" + String(repeating: ")", count: depth) + " > 1"]
        }
        for text in nested(limit) { #expect(error(text) == nil, "\(text.prefix(20))") }
        for text in nested(limit + 1) + nested(200_000) {
            let e = try #require(error(text))
            #expect(e.code == .tooDeep && e.line == 1 && e.column == 1 + (text.hasPrefix("(") ? limit : text.hasPrefix("not") ? 4 * limit : 7 * limit), "\(e.message.prefix(200))")
        }
    }

    @Test func trailingTokensAreRejected() throws {
        let e = try #require(error("a == 1 b == 2"))
        #expect(e.column == 8)
        #expect(e.detail.hasPrefix("expected 'and', 'or' or end of condition"))
    }

    @Test func unknownFunctionIsNamed() throws {
        let e = try #require(error("x == 1 and toLower(user.name) == \"a\""))
        #expect(e.code == .unknownFunction)
        #expect(e.column == 12)
        #expect(e.message.contains("^~~~~~~"))
    }

    @Test func functionArgumentsAreCheckedAtCompileTime() throws {
        let bad = try #require(error(#"cidrMatch(source.ip, "10.0.0.0/8", "300.1.0.0/16")"#))
        #expect(bad.code == .invalidArgument)
        #expect(bad.column == 36)
        #expect(error("startsWith(user.name)")?.code == .wrongArgumentCount)
        #expect(error("isPublic(source.ip, \"x\")")?.code == .wrongArgumentCount)
        #expect(error("startsWith(user.name, verb)")?.code == .invalidArgument)
        #expect(error("isPublic~(source.ip)")?.code == .invalidArgument)
        #expect(error("length(x) == 1")  == nil)
        #expect(error("isPublic(x) == true")?.code == .unexpectedToken)
    }

    @Test func likeTakesStringsAndInTakesALiteralList() throws {
        #expect(error("a like 5")?.code == .invalidArgument)
        #expect(error("a in b")?.code == .unexpectedToken)
        #expect(error("a in (b)")?.code == .unexpectedToken)
        #expect(error("a < null")?.code == .invalidArgument)
    }

    @Test func singleQuotesAndStrayCharactersAreExplained() throws {
        #expect(error("a == 'x'")?.detail == "strings take double quotes, not single quotes")
        #expect(error("a == 1 & b == 2")?.column == 8)
        #expect(error("a == 12abc")?.code == .invalidNumber)
    }

    @Test func emptyConditionIsAnError() throws {
        let e = try #require(error(""))
        #expect(e.code == .unexpectedEnd)
        #expect(e.line == 1 && e.column == 1)
    }
}

extension ConditionErrorTests {
    @Test func errorsRelocateIntoTheEnclosingFile() throws {
        let first = try #require(error("a == 1 b"))
        let moved = first.located(atLine: 12, column: 8)
        #expect(moved.line == 12 && moved.column == 15)
        let second = try #require(error("a == 1\n and = 2"))
        let movedSecond = second.located(atLine: 12, column: 8)
        #expect(movedSecond.line == 13 && movedSecond.column == second.column)
    }
}
