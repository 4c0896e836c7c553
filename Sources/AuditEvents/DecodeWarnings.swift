/// Problems inside a decoded event: it was decoded with what could be read.
public struct DecodeWarnings: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A field had an unexpected JSON type and was ignored.
    public static let wrongType = DecodeWarnings(rawValue: 1 << 0)
    /// A field had the wrong type but was read anyway (`"code": "403"`).
    public static let coercedType = DecodeWarnings(rawValue: 1 << 1)
    /// A source IP is not an IPv4/IPv6 address (it is kept as written).
    public static let invalidSourceIP = DecodeWarnings(rawValue: 1 << 2)
    /// No source IP at all.
    public static let missingSourceIP = DecodeWarnings(rawValue: 1 << 3)
    /// No timestamp: `time` is nil and the runtime uses the record's.
    public static let missingTime = DecodeWarnings(rawValue: 1 << 4)
    /// A timestamp that does not parse.
    public static let invalidTime = DecodeWarnings(rawValue: 1 << 5)
    /// A required-looking field is missing (no verb, no user, ...).
    public static let missingField = DecodeWarnings(rawValue: 1 << 6)

    /// Names for output and tests, in bit order.
    public var names: [String] {
        let all: [(DecodeWarnings, String)] = [
            (.wrongType, "wrong_type"), (.coercedType, "coerced_type"),
            (.invalidSourceIP, "invalid_source_ip"), (.missingSourceIP, "missing_source_ip"),
            (.missingTime, "missing_time"), (.invalidTime, "invalid_time"),
            (.missingField, "missing_field"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }
}
