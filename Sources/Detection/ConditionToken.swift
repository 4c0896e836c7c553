/// One lexical token of a condition.
struct ConditionToken: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case identifier(String)
        /// A backticked name: always a field name (segment), never a keyword.
        case quotedName(String)
        case string(String)
        case number(Double)
        case keyword(Keyword)
        case symbol(Symbol)
        case end
    }

    enum Keyword: String, Sendable, Hashable {
        case and, or, not, `in`, like, `where`, null, `true`, `false`
    }

    enum Symbol: String, Sendable, Hashable {
        case leftParen = "(", rightParen = ")", comma = ",", dot = "."
        case leftBracket = "[", rightBracket = "]"
        case equal = "==", notEqual = "!=", less = "<", lessEqual = "<="
        case greater = ">", greaterEqual = ">=", colon = ":", tilde = "~"
    }

    let kind: Kind
    let span: SourceSpan
    /// True when whitespace immediately precedes the token (so `like~` and
    /// `like ~` can be told apart from a field path continuation).
    let spaced: Bool

    /// How the token reads in an error message.
    var display: String {
        switch kind {
        case .identifier(let s): return "'\(s)'"
        case .quotedName(let s): return "`\(s)`"
        case .string(let s): return "string \"\(s)\""
        case .number(let n): return "number \(FieldValue.number(n).text)"
        case .keyword(let k): return "'\(k.rawValue)'"
        case .symbol(let s): return "'\(s.rawValue)'"
        case .end: return "end of condition"
        }
    }
}
