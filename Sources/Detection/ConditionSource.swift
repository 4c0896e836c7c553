/// A character offset range in the condition text.
struct SourceSpan: Sendable, Hashable {
    var start: Int
    var length: Int
}

/// The condition text as characters, for the lexer and for error locations.
struct ConditionSource: Sendable {
    let characters: [Character]

    init(_ text: String) {
        characters = Array(text)
    }

    /// 1-based line, 1-based column, and the text of that line, for `offset`.
    func location(of offset: Int) -> (line: Int, column: Int, text: String) {
        var line = 1
        var lineStart = 0
        let end = min(offset, characters.count)
        var i = 0
        while i < end {
            if characters[i] == "\n" {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        var lineEnd = lineStart
        while lineEnd < characters.count, characters[lineEnd] != "\n" { lineEnd += 1 }
        let text = String(characters[lineStart..<lineEnd])
        return (line, offset - lineStart + 1, text)
    }
}
