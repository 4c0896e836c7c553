/// A small seeded generator (SplitMix64): the same seed gives the same traffic on every
/// machine and Swift version (the standard library's generator is not seedable).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// A value in `0..<1`.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// `count` random lowercase hex digits.
    mutating func hex(_ count: Int) -> String {
        let digits: StaticString = "0123456789abcdef"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var word = next(), left = 16
        for _ in 0..<count {
            if left == 0 { word = next(); left = 16 }
            bytes.append(digits.utf8Start[Int(word & 15)])
            word >>= 4
            left -= 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A version-4 UUID.
    mutating func uuid() -> String {
        let h = Array(hex(32))
        var text = String(h[0..<8]) + "-" + String(h[8..<12]) + "-4" + String(h[13..<16]) + "-"
        text += String("89ab"[String.Index(utf16Offset: below(4), in: "89ab")]) + String(h[17..<20])
        return text + "-" + String(h[20..<32])
    }
}
