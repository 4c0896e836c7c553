import Detection
import Yams

/// Reads a topology file: Detection's ``YAMLReader`` (every problem with its
/// position, as rule files report them) plus the topology's own value types.
typealias TopologyReader = YAMLReader

extension YAMLReader {
    mutating func int(_ node: Node, _ what: String, in range: ClosedRange<Int>) -> Int? {
        if case .scalar(let s) = node, let n = Int(s.string.replacingOccurrences(of: "_", with: "")) {
            if range.contains(n) { return n }
            problem(at: node, "\(what) must be in \(range.lowerBound)...\(range.upperBound), not \(n)")
            return nil
        }
        problem(at: node, "\(what) must be a whole number")
        return nil
    }

    /// `<digits><unit>` with unit ms, s, m, h or d (`500ms`, `30s`, `5m`, `1h`); zero only when allowed.
    mutating func duration(_ node: Node, _ what: String, allowZero: Bool = false) -> Duration? {
        if case .scalar(let s) = node, let d = Self.parseDuration(s.string) {
            if d > .zero || allowZero { return d }
            problem(at: node, "\(what) must be longer than zero")
            return nil
        }
        problem(at: node, "\(what) must be a duration like 500ms, 30s, 5m, 1h or 1d")
        return nil
    }

    static func parseDuration(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int64(digits), value < 1 << 40 else { return nil }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m": return .seconds(value * 60)
        case "h": return .seconds(value * 3600)
        case "d": return .seconds(value * 86400)
        default: return nil
        }
    }
}
