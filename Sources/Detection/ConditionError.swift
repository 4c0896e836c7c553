/// The one error type of the Detection module: a condition that cannot be
/// parsed or compiled, with where it went wrong.
///
/// ``message`` renders the problem as a compiler would: the position, the
/// detail, the source line and a caret under the offending text.
public struct ConditionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong (closed set).
    public enum Code: String, Sendable, Hashable {
        case unexpectedCharacter
        case unterminatedString
        case invalidNumber
        case unexpectedToken
        case unexpectedEnd
        case unknownFunction
        case wrongArgumentCount
        case invalidArgument
        /// Parentheses, `not` and `length` nested deeper than 64 levels.
        case tooDeep
    }

    public let code: Code
    /// A human description of the problem.
    public let detail: String
    /// 1-based line of the offending token in the condition text.
    public let line: Int
    /// 1-based column (in characters) of the offending token.
    public let column: Int
    /// The full source line holding the offending token.
    public let sourceLine: String
    /// How many characters the caret marker spans (at least 1).
    public let length: Int

    public init(code: Code, detail: String, line: Int, column: Int, sourceLine: String, length: Int = 1) {
        self.code = code
        self.detail = detail
        self.line = line
        self.column = column
        self.sourceLine = sourceLine
        self.length = max(1, length)
    }

    /// `line:column: detail`, the source line, and a caret line under the token.
    public var message: String {
        sourceCaretMessage(location: "\(line):\(column)", detail: detail, sourceLine: sourceLine,
                           column: column, length: length)
    }

    public var description: String { message }
}

extension ConditionError {
    /// An error located at `span` within `source`.
    static func at(_ span: SourceSpan, in source: ConditionSource, _ code: Code, _ detail: String) -> ConditionError {
        let (line, column, text) = source.location(of: span.start)
        return ConditionError(code: code, detail: detail, line: line, column: column,
                              sourceLine: text, length: span.length)
    }
}

extension ConditionError {
    /// This error as positioned in an enclosing file, for a condition whose
    /// first character sits at `line`:`column` there (a YAML `where:` value).
    /// Columns shift only on the condition's first line.
    public func located(atLine line: Int, column: Int) -> ConditionError {
        ConditionError(code: code, detail: detail, line: self.line + line - 1,
                       column: self.line == 1 ? self.column + column - 1 : self.column,
                       sourceLine: sourceLine, length: length)
    }
}
