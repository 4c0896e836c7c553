/// A period in a rule file: a whole number and a unit, `30s`, `30m`, `1h`, `1d`.
public struct RuleDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in seconds (always positive).
    public let seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    /// Parses `<digits><unit>` with unit `s`, `m`, `h` or `d`; nil otherwise
    /// (no zero, no sign, no fraction, no spaces).
    public init?(parsing text: String) {
        guard let unit = text.last, text.count >= 2 else { return nil }
        let digits = text.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(digits), value > 0 else {
            return nil
        }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return nil
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        seconds = product
    }

    public var description: String {
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    public static func < (a: RuleDuration, b: RuleDuration) -> Bool { a.seconds < b.seconds }
}

/// How serious an alert from a rule is.
public enum Severity: String, Sendable, Hashable, CaseIterable, Comparable {
    case info, low, medium, high, critical

    private var rank: Int {
        switch self {
        case .info: return 0
        case .low: return 1
        case .medium: return 2
        case .high: return 3
        case .critical: return 4
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}
