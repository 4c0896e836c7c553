import AuditEvents
import Enrichment

/// Recursive-descent parser for the EQL subset; builds ``ConditionNode``s
/// directly, so parsing is compiling.
///
/// Precedence, loosest first: `or`, `and`, `not`, comparisons.
struct ConditionParser {
    let source: ConditionSource
    private let tokens: [ConditionToken]
    private var position = 0
    /// Parentheses, `not`s and `length(`s open around the current token.
    private var nesting = 0
    /// How deep parentheses, `not` and `length` may nest. The parser, the compiled plan and its
    /// evaluation recurse once a level, so without a bound a rule file of many thousand `(`
    /// overflowed the stack (a rule reload took `vigil run` down); no real condition comes near.
    static let maxNesting = 64

    init(source: ConditionSource, tokens: [ConditionToken]) {
        self.source = source
        self.tokens = tokens
    }

    /// An operand as parsed: `null` is kept apart so `== null` can become a presence test.
    enum Parsed {
        case operand(ConditionNode.Operand, SourceSpan)
        case null(SourceSpan)
    }

    // MARK: Token access

    var current: ConditionToken {
        tokens[min(position, tokens.count - 1)]
    }

    private func peek(_ ahead: Int) -> ConditionToken {
        tokens[min(position + ahead, tokens.count - 1)]
    }

    mutating func advance() -> ConditionToken {
        let token = current
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func error(_ token: ConditionToken, _ code: ConditionError.Code, _ detail: String) -> ConditionError {
        .at(token.span, in: source, code, detail)
    }

    /// One more level of nesting at the current token, refused past ``maxNesting``.
    private mutating func enter() throws(ConditionError) {
        guard nesting < Self.maxNesting else {
            throw error(current, .tooDeep, "parentheses, 'not' and 'length' nested deeper than \(Self.maxNesting) levels")
        }
        nesting += 1
    }

    private func expected(_ what: String) -> ConditionError {
        let token = current
        let code: ConditionError.Code = token.kind == .end ? .unexpectedEnd : .unexpectedToken
        return error(token, code, "expected \(what), found \(token.display)")
    }

    mutating func accept(_ symbol: ConditionToken.Symbol) -> Bool {
        guard current.kind == .symbol(symbol) else { return false }
        _ = advance()
        return true
    }

    private mutating func accept(_ keyword: ConditionToken.Keyword) -> Bool {
        guard current.kind == .keyword(keyword) else { return false }
        _ = advance()
        return true
    }

    mutating func expect(_ symbol: ConditionToken.Symbol) throws(ConditionError) {
        guard accept(symbol) else { throw expected("'\(symbol.rawValue)'") }
    }

    /// A `~` written directly after the previous token (`like~`, `in~`).
    mutating func acceptTilde() -> Bool {
        guard current.kind == .symbol(.tilde), !current.spaced else { return false }
        _ = advance()
        return true
    }

    // MARK: Grammar

    /// `[category where] expression` to the end of the text.
    mutating func parseCondition() throws(ConditionError) -> ConditionNode {
        var category: String?
        if case .identifier(let name) = current.kind, peek(1).kind == .keyword(.where) {
            category = name
            position += 2
        }
        let body = try parseOr()
        guard current.kind == .end else { throw expected("'and', 'or' or end of condition") }
        guard let category, category.lowercased() != "any" else { return body }
        let field = ConditionNode.Operand.field(FieldReference(path: FieldPath(segments: [.key("event"), .key("category")])))
        let check = ConditionNode.member(field, [.string(category.lowercased())], caseInsensitive: true)
        return .and([check, body])
    }

    private mutating func parseOr() throws(ConditionError) -> ConditionNode {
        var nodes = [try parseAnd()]
        while accept(.or) { nodes.append(try parseAnd()) }
        return nodes.count == 1 ? nodes[0] : .or(nodes)
    }

    private mutating func parseAnd() throws(ConditionError) -> ConditionNode {
        var nodes = [try parseNot()]
        while accept(.and) { nodes.append(try parseNot()) }
        return nodes.count == 1 ? nodes[0] : .and(nodes)
    }

    private mutating func parseNot() throws(ConditionError) -> ConditionNode {
        if current.kind == .keyword(.not) {
            try enter()
            _ = advance()
            defer { nesting -= 1 }
            return .not(try parseNot())
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(ConditionError) -> ConditionNode {
        if current.kind == .symbol(.leftParen) {
            try enter()
            _ = advance()
            defer { nesting -= 1 }
            let inner = try parseOr()
            try expect(.rightParen)
            return inner
        }
        if case .identifier(let name) = current.kind, let function = PredicateFunction(name: name),
           isCall(after: 1) {
            return try parsePredicateCall(function)
        }
        let start = current
        let lhs = try parseOperand()
        return try parseComparison(lhs, start: start)
    }

    /// Whether a call's `(` (optionally after `~`) follows at `ahead`.
    private func isCall(after ahead: Int) -> Bool {
        let next = peek(ahead)
        if next.kind == .symbol(.leftParen) { return true }
        return next.kind == .symbol(.tilde) && !next.spaced && peek(ahead + 1).kind == .symbol(.leftParen)
    }

    private mutating func parseComparison(_ lhsParsed: Parsed, start: ConditionToken) throws(ConditionError) -> ConditionNode {
        guard case .operand(let lhs, _) = lhsParsed else {
            return try parseNullComparison(start: start)
        }
        let token = current
        switch token.kind {
        case .symbol(let s):
            if let op = ConditionNode.Comparison(rawValue: s.rawValue) {
                _ = advance()
                switch try parseOperand() {
                case .null:
                    guard op == .equal || op == .notEqual else {
                        throw error(token, .invalidArgument, "only '==' and '!=' compare with null")
                    }
                    return .present(lhs, op == .notEqual)
                case .operand(let rhs, _):
                    return .compare(lhs, op, rhs)
                }
            }
            if s == .colon {
                _ = advance()
                return try parseMatch(lhs, caseInsensitive: true, colon: true)
            }
        case .keyword(.in):
            _ = advance()
            return try parseIn(lhs)
        case .keyword(.like):
            _ = advance()
            return try parseMatch(lhs, caseInsensitive: acceptTilde(), colon: false)
        case .keyword(.not) where peek(1).kind == .keyword(.in) || peek(1).kind == .keyword(.like):
            _ = advance()
            let inner: ConditionNode
            if accept(.in) {
                inner = try parseIn(lhs)
            } else {
                _ = advance()
                inner = try parseMatch(lhs, caseInsensitive: acceptTilde(), colon: false)
            }
            return .presentAndNot(lhs, inner)
        default:
            break
        }
        // No operator: a bare field or boolean literal.
        switch lhs {
        case .literal(.bool(let b)): return .constant(b)
        case .field: return .truthy(lhs)
        default: throw error(start, .unexpectedToken, "expected a condition, found \(start.display)")
        }
    }

    private mutating func parseNullComparison(start: ConditionToken) throws(ConditionError) -> ConditionNode {
        let token = current
        guard token.kind == .symbol(.equal) || token.kind == .symbol(.notEqual) else {
            throw error(start, .unexpectedToken, "null can only be compared with '==' or '!='")
        }
        _ = advance()
        guard case .operand(let rhs, _) = try parseOperand() else { return .constant(token.kind == .symbol(.equal)) }
        return .present(rhs, token.kind == .symbol(.notEqual))
    }

    /// After `in` / `in~`: a parenthesized list of literals.
    private mutating func parseIn(_ lhs: ConditionNode.Operand) throws(ConditionError) -> ConditionNode {
        let caseInsensitive = acceptTilde()
        let values = try parseLiteralList()
        let keys = Set(values.map { ConditionNode.key($0, caseInsensitive: caseInsensitive) })
        return .member(lhs, keys, caseInsensitive: caseInsensitive)
    }

    /// After `like` / `like~` / `:`: a string or a list of strings. `:` without
    /// wildcards is case-insensitive equality (and then also matches numbers).
    private mutating func parseMatch(_ lhs: ConditionNode.Operand, caseInsensitive: Bool,
                                     colon: Bool) throws(ConditionError) -> ConditionNode {
        let first = current
        let values: [FieldValue]
        if current.kind == .symbol(.leftParen) {
            values = try parseLiteralList()
        } else {
            values = [try parseLiteral()]
        }
        var patterns: [String] = []
        for value in values {
            if case .string(let s) = value {
                patterns.append(s)
            } else if !colon {
                throw error(first, .invalidArgument, "'like' takes string patterns")
            }
        }
        let wild = patterns.contains { $0.contains("*") || $0.contains("?") }
        if colon && (!wild || patterns.count != values.count) {
            let keys = Set(values.map { ConditionNode.key($0, caseInsensitive: true) })
            return .member(lhs, keys, caseInsensitive: true)
        }
        return .string(lhs, .like(patterns.map { WildcardPattern($0, caseInsensitive: caseInsensitive) }))
    }

    private mutating func parseLiteralList() throws(ConditionError) -> [FieldValue] {
        try expect(.leftParen)
        var values = [try parseLiteral()]
        while accept(.comma) { values.append(try parseLiteral()) }
        try expect(.rightParen)
        return values
    }

    private mutating func parseLiteral() throws(ConditionError) -> FieldValue {
        switch current.kind {
        case .string(let s): _ = advance(); return .string(s)
        case .number(let n): _ = advance(); return .number(n)
        case .keyword(.true): _ = advance(); return .bool(true)
        case .keyword(.false): _ = advance(); return .bool(false)
        default: throw expected("a string, number or boolean literal")
        }
    }

    /// A literal, `null`, a field, or `length(...)`.
    mutating func parseOperand() throws(ConditionError) -> Parsed {
        let token = current
        switch token.kind {
        case .string, .number, .keyword(.true), .keyword(.false):
            return .operand(.literal(try parseLiteral()), token.span)
        case .keyword(.null):
            _ = advance()
            return .null(token.span)
        case .identifier(let name) where isCall(after: 1):
            guard name.lowercased() == "length" else {
                if PredicateFunction(name: name) != nil {
                    throw error(token, .invalidArgument, "\(name) is a condition, not a value")
                }
                throw error(token, .unknownFunction, "unknown function '\(name)'")
            }
            try enter()
            defer { nesting -= 1 }
            _ = advance()
            try expect(.leftParen)
            guard case .operand(let inner, _) = try parseOperand() else {
                throw error(token, .invalidArgument, "length of null")
            }
            try expect(.rightParen)
            return .operand(.length(inner), token.span)
        case .identifier, .quotedName:
            return .operand(.field(try parseField()), token.span)
        default:
            throw expected("a field, literal or function")
        }
    }

    /// `name(.name | ."quoted" | .`quoted` | [N])*`, with no spaces inside.
    private mutating func parseField() throws(ConditionError) -> FieldReference {
        var segments: [FieldPath.Segment] = []
        switch advance().kind {
        case .identifier(let s), .quotedName(let s): segments.append(.key(s))
        default: throw expected("a field name")
        }
        while !current.spaced {
            if current.kind == .symbol(.dot) {
                _ = advance()
                switch current.kind {
                case .identifier(let s), .quotedName(let s), .string(let s): segments.append(.key(s))
                case .keyword(let k): segments.append(.key(k.rawValue))
                default: throw expected("a field name after '.'")
                }
                _ = advance()
            } else if current.kind == .symbol(.leftBracket) {
                _ = advance()
                guard case .number(let n) = current.kind, n >= 0, n.rounded() == n, n < 1e9 else {
                    throw expected("an array index")
                }
                _ = advance()
                try expect(.rightBracket)
                segments.append(.index(Int(n)))
            } else {
                break
            }
        }
        return FieldReference(path: FieldPath(segments: segments))
    }
}
