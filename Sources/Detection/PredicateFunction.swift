/// The functions that are conditions (they answer true or false).
/// Names match case-insensitively, as EQL's do.
enum PredicateFunction: String, Sendable, CaseIterable {
    case cidrMatch
    case startsWith
    case endsWith
    case stringContains
    case isPublic
    case isTorExit

    init?(name: String) {
        let lower = name.lowercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == lower }) else { return nil }
        self = match
    }

    /// Whether the function takes one value (`isPublic(ip)`) rather than a
    /// value and one or more string arguments.
    var isUnary: Bool {
        self == .isPublic || self == .isTorExit
    }

    /// Whether a `~` suffix (case-insensitive variant) is allowed.
    var allowsTilde: Bool {
        self == .startsWith || self == .endsWith || self == .stringContains
    }
}
