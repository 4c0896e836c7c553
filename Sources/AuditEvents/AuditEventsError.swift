/// The one error type of AuditEvents: configuration and setup failures only.
/// A bad record is never thrown; it is a ``DecodeOutcome``.
public struct AuditEventsError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A field path that does not parse.
        case invalidFieldPath
        /// The JSON parser could not be created (out of memory).
        case parserUnavailable
        /// An option out of range.
        case invalidOption
    }

    public var code: Code
    public var detail: String

    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}
