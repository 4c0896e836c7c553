/// A `like` pattern compiled once: `*` matches any run of characters, `?`
/// exactly one; the whole value must match. Case-insensitive patterns are
/// stored lowercased and values are lowercased before matching.
struct WildcardPattern: Sendable, Hashable {
    private enum Shape: Sendable, Hashable {
        case exact(String)
        case prefix(String)
        case suffix(String)
        case contains(String)
        case general([Character])
    }

    private let shape: Shape
    let caseInsensitive: Bool

    init(_ pattern: String, caseInsensitive: Bool) {
        self.caseInsensitive = caseInsensitive
        let p = caseInsensitive ? pattern.lowercased() : pattern
        let stars = p.filter { $0 == "*" }.count
        let plain = !p.contains("?")
        if plain && stars == 0 {
            shape = .exact(p)
        } else if plain && stars == 1 && p.last == "*" {
            shape = .prefix(String(p.dropLast()))
        } else if plain && stars == 1 && p.first == "*" {
            shape = .suffix(String(p.dropFirst()))
        } else if plain && stars == 2 && p.count >= 2 && p.first == "*" && p.last == "*" {
            shape = .contains(String(p.dropFirst().dropLast()))
        } else {
            shape = .general(Array(p))
        }
    }

    func matches(_ value: String) -> Bool {
        let v = caseInsensitive ? value.lowercased() : value
        switch shape {
        case .exact(let s): return v == s
        case .prefix(let s): return v.hasPrefix(s)
        case .suffix(let s): return v.hasSuffix(s)
        case .contains(let s): return s.isEmpty || v.contains(s)
        case .general(let p): return Self.match(p, Array(v))
        }
    }

    /// Iterative glob match with single-star backtracking (linear in practice).
    private static func match(_ p: [Character], _ s: [Character]) -> Bool {
        var pi = 0, si = 0
        var star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == "?" || (p[pi] != "*" && p[pi] == s[si]) {
                pi += 1
                si += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = si
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
