import Testing
@testable import Detection

/// The evaluation plan (`ConditionNode.planned()`): cheap tests first,
/// field-to-literal comparisons specialized — and the same answers as the
/// tree as written.
@Suite struct ConditionPlanTests {
    private static let conditions = [
        #"user.groups == "system:unauthenticated" and response.code == 403"#,
        #"(user.groups == "a" or (log_type == "GCP.AuditLog" and kubernetes and user.name == "x")) and response.code == 403"#,
        #"response.code != 403"#, #"403 != response.code"#, #"response.code < 500"#, #"500 > response.code"#,
        #"response.code >= "403""#, #"user.name <= "m""#, #""m" < user.name"#, #"user.groups != "a""#,
        #"kubernetes == true"#, #"kubernetes != "TRUE""#, #"not (response.code == 403 or kubernetes)"#,
        #"user.name not in ("x", "y") and response.code in (403, "404")"#,
        #"request.uri like ("/api/*", "/apis/*") and stage == "ResponseComplete" and isPublic(source.ip)"#,
        #"length(user.name) > 3 or cidrMatch(source.ip, "10.0.0.0/8")"#,
        #"user.name == null and response.code != null"#, #"a.b == c.d and n == 1.5"#,
        #"((n > 1 and n < 9) or (n == 0)) and not user.groups like~ "SYS*""#,
    ]

    private static let contexts: [DictionaryContext] = [
        DictionaryContext([:]),
        DictionaryContext(["user.groups": ["system:unauthenticated", "a"], "response.code": 403, "kubernetes": true,
                           "log_type": "GCP.AuditLog", "user.name": "x", "source.ip": "8.8.8.8",
                           "request.uri": "/api/v1", "stage": "ResponseComplete"]),
        DictionaryContext(["response.code": "403", "kubernetes": "true", "user.name": "zed", "n": [0, 5],
                           "source.ip": "10.1.2.3", "a.b": 1, "c.d": "1"]),
        DictionaryContext(["response.code": 200, "kubernetes": false, "user.name": "abc", "n": 1.5,
                           "user.groups": ["system:masters"], "request.uri": "/apis/x", "stage": "ResponseStarted"]),
        DictionaryContext(["response.code": .many([]), "user.groups": .many([]), "n": "nan", "user.name": "m"]),
    ]

    @Test func planAnswersAsTheWrittenTree() throws {
        for text in Self.conditions {
            let condition = try Condition(text)
            for context in Self.contexts {
                #expect(condition.plan.evaluate(context) == condition.root.evaluate(context), "\(text)")
            }
        }
    }

    @Test func cheapTestsComeFirst() throws {
        let condition = try Condition(#"user.groups == "system:unauthenticated" and response.code == 403"#)
        guard case .and(let operands) = condition.plan else {
            Issue.record("expected an and, got \(condition.plan)")
            return
        }
        guard case .fieldCompare(let field, .equal, .number(403), literalFirst: false) = operands.first else {
            Issue.record("expected response.code == 403 first, got \(operands)")
            return
        }
        #expect(field.name == "response.code")
        // The fields keep their order of first mention.
        #expect(condition.fields.map(\.name) == ["user.groups", "response.code"])
    }

    @Test func nestedAndsAndOrsAreFlattened() throws {
        let condition = try Condition("a and (b and (c or (d or e)))")
        guard case .and(let operands) = condition.plan else {
            Issue.record("expected an and, got \(condition.plan)")
            return
        }
        #expect(operands.count == 3)
        #expect(operands.contains { if case .or(let inner) = $0 { return inner.count == 3 } else { return false } })
    }
}
