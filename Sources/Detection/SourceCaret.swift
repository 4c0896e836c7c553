/// `location: detail`, the source line, and a caret marker under the offending text: the
/// one way Detection shows where a problem is (conditions and rule files alike).
func sourceCaretMessage(location: String, detail: String, sourceLine: String, column: Int, length: Int) -> String {
    let pad = String(repeating: " ", count: max(0, column - 1))
    let marker = "^" + String(repeating: "~", count: max(1, length) - 1)
    return "\(location): \(detail)\n\(sourceLine)\n\(pad)\(marker)"
}
