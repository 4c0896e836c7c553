/// What became of one record, or of one element of a batch record. Every
/// input produces at least one outcome: no record is lost silently.
public enum DecodeOutcome: Sendable {
    /// An event, with whatever could be read (see ``AuditEvent/warnings``).
    case decoded(AuditEvent)
    /// Nothing to decode; counted, not dead-lettered.
    case skipped(DecodeIssue)
    /// Expected events but could not decode them; goes to the dead-letter topic.
    case deadLetter(DecodeIssue)

    public var event: AuditEvent? {
        if case .decoded(let e) = self { return e }
        return nil
    }

    public var issue: DecodeIssue? {
        switch self {
        case .decoded: return nil
        case .skipped(let i), .deadLetter(let i): return i
        }
    }

    /// `decoded`, `skipped` or `dead_letter`: a bounded metric label.
    public var label: String {
        switch self {
        case .decoded: return "decoded"
        case .skipped: return "skipped"
        case .deadLetter: return "dead_letter"
        }
    }

    static func issue(_ issue: DecodeIssue) -> DecodeOutcome {
        issue.reason.isSkip ? .skipped(issue) : .deadLetter(issue)
    }
}
