/// Splits condition text into tokens; every token keeps its source span.
struct ConditionLexer {
    private let source: ConditionSource
    private var chars: [Character] { source.characters }
    private var index = 0

    init(source: ConditionSource) {
        self.source = source
    }

    /// All tokens, ending with `.end`.
    static func tokenize(_ source: ConditionSource) throws(ConditionError) -> [ConditionToken] {
        var lexer = ConditionLexer(source: source)
        var tokens: [ConditionToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ ahead: Int = 0) -> Character? {
        index + ahead < chars.count ? chars[index + ahead] : nil
    }

    private func fail(_ start: Int, _ length: Int, _ code: ConditionError.Code, _ detail: String) -> ConditionError {
        .at(SourceSpan(start: start, length: length), in: source, code, detail)
    }

    private mutating func next() throws(ConditionError) -> ConditionToken {
        var spaced = index == 0
        while let c = peek(), c.isWhitespace {
            index += 1
            spaced = true
        }
        let start = index
        func token(_ kind: ConditionToken.Kind) -> ConditionToken {
            ConditionToken(kind: kind, span: SourceSpan(start: start, length: index - start), spaced: spaced)
        }
        guard let c = peek() else { return token(.end) }

        if c == "\"" { return token(.string(try lexString())) }
        if c == "`" { return token(.quotedName(try lexBackticked())) }
        if c.isNumber || (c == "-" && (peek(1)?.isNumber ?? false)) {
            return token(.number(try lexNumber()))
        }
        if Self.isIdentifierStart(c) {
            var name = ""
            while let d = peek(), Self.isIdentifierPart(d) {
                name.append(d)
                index += 1
            }
            if let keyword = ConditionToken.Keyword(rawValue: name) { return token(.keyword(keyword)) }
            return token(.identifier(name))
        }
        let two = peek(1).map { String([c, $0]) } ?? ""
        if let symbol = ConditionToken.Symbol(rawValue: two), two.count == 2 {
            index += 2
            return token(.symbol(symbol))
        }
        if c == "=" { throw fail(start, 1, .unexpectedCharacter, "'=' is not an operator; use '==' (or ':' to ignore case)") }
        if let symbol = ConditionToken.Symbol(rawValue: String(c)) {
            index += 1
            return token(.symbol(symbol))
        }
        if c == "'" {
            throw fail(start, 1, .unexpectedCharacter, "strings take double quotes, not single quotes")
        }
        throw fail(start, 1, .unexpectedCharacter, "unexpected character '\(c)'")
    }

    static func isIdentifierStart(_ c: Character) -> Bool {
        c.isLetter || c == "_" || c == "@"
    }

    static func isIdentifierPart(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "_" || c == "@" || c == "$"
    }

    /// `"text"` with `\` escapes, or `"""raw text"""` without escapes.
    private mutating func lexString() throws(ConditionError) -> String {
        let start = index
        if peek(1) == "\"", peek(2) == "\"" {
            index += 3
            var text = ""
            while index < chars.count {
                if peek() == "\"", peek(1) == "\"", peek(2) == "\"" {
                    index += 3
                    return text
                }
                text.append(chars[index])
                index += 1
            }
            throw fail(start, 3, .unterminatedString, "unterminated string")
        }
        index += 1
        var text = ""
        while let c = peek() {
            index += 1
            switch c {
            case "\"":
                return text
            case "\\":
                guard let e = peek() else { break }
                index += 1
                switch e {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "r": text.append("\r")
                case "\"", "\\", "/": text.append(e)
                default:
                    throw fail(index - 2, 2, .unexpectedCharacter, "unknown escape '\\\(e)'")
                }
            case "\n":
                throw fail(start, 1, .unterminatedString, "unterminated string")
            default:
                text.append(c)
            }
        }
        throw fail(start, 1, .unterminatedString, "unterminated string")
    }

    /// A backticked name; a doubled backtick stands for one.
    private mutating func lexBackticked() throws(ConditionError) -> String {
        let start = index
        index += 1
        var text = ""
        while let c = peek() {
            index += 1
            if c == "`" {
                if peek() == "`" {
                    text.append("`")
                    index += 1
                    continue
                }
                return text
            }
            text.append(c)
        }
        throw fail(start, 1, .unterminatedString, "unterminated backticked name")
    }

    private mutating func lexNumber() throws(ConditionError) -> Double {
        let start = index
        var text = ""
        if peek() == "-" {
            text.append("-")
            index += 1
        }
        while let c = peek(), c.isNumber || c == "." || c == "e" || c == "E" ||
                ((c == "+" || c == "-") && (text.last == "e" || text.last == "E")) {
            // A dot not followed by a digit ends the number.
            if c == ".", !(peek(1)?.isNumber ?? false) { break }
            text.append(c)
            index += 1
        }
        if let d = peek(), Self.isIdentifierStart(d) {
            throw fail(start, index - start + 1, .invalidNumber, "invalid number '\(text)\(d)'")
        }
        guard let value = Double(text) else {
            throw fail(start, index - start, .invalidNumber, "invalid number '\(text)'")
        }
        return value
    }
}
