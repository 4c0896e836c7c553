/// Paths beside this file: the broken-rule fixtures and the repository's rules.
enum RuleFixtures {
    static let testsDirectory: String = {
        let file = #filePath
        guard let slash = file.lastIndex(of: "/") else { return "." }
        return String(file[..<slash])
    }()

    static let brokenRules = testsDirectory + "/Fixtures/broken-rules"

    /// `topology/rules` of this checkout (Tests/DetectionTests → checkout).
    static let seedRules: String = {
        var parts = testsDirectory.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/topology/rules"
    }()
}
