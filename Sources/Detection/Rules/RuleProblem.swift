/// One problem in a rule file: where, what, and the offending text.
public struct RuleProblem: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// 1-based line and column in the file.
    public let line: Int
    public let column: Int
    public let detail: String
    /// The file's line holding the problem.
    public let sourceLine: String
    /// How many characters the caret marker spans (at least 1).
    public let length: Int

    public init(file: String, line: Int, column: Int, detail: String, sourceLine: String, length: Int = 1) {
        self.file = file
        self.line = line
        self.column = column
        self.detail = detail
        self.sourceLine = sourceLine
        self.length = max(1, length)
    }

    /// `file:line:column: detail`, the line, and a caret under the offending text.
    public var message: String {
        sourceCaretMessage(location: "\(file):\(line):\(column)", detail: detail, sourceLine: sourceLine,
                           column: column, length: length)
    }

    public var description: String { message }
}

/// Rule files that did not load: every problem found, in file and line order.
public struct RuleLoadError: Error, Sendable, CustomStringConvertible {
    public let problems: [RuleProblem]
    public var description: String { problems.map(\.message).joined(separator: "\n") }
}
