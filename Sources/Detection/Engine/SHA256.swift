/// SHA-256 (FIPS 180-4), for deterministic alert ids: Foundation on Linux has
/// no CryptoKit and the engine takes no package for one hash.
struct SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// Writes the 32-byte digest of `input` into `out`. Works on the bytes in place,
    /// in stack buffers: an alert id is a hash, and alerts and their summaries each
    /// made one with arrays (bounds checks, allocations) per block and round.
    static func digest(_ out: UnsafeMutableRawBufferPointer, of input: UnsafeRawBufferPointer) {
        precondition(out.count >= 32)
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
            (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
        let bitLength = UInt64(input.count) &* 8
        // The message's last block or two: the tail, 0x80, zeros, the length (big-endian).
        let full = input.count / 64 * 64
        let tail = input.count - full
        let tailBlocks = tail + 9 <= 64 ? 1 : 2
        k.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { last in
                    last.initialize(repeating: 0)
                    for i in 0..<tail { last[i] = input[full + i] }
                    last[tail] = 0x80
                    let end = tailBlocks * 64
                    for i in 0..<8 { last[end - 1 - i] = UInt8(truncatingIfNeeded: bitLength >> UInt64(8 * i)) }
                    let lastBytes = UnsafeRawBufferPointer(last)
                    for chunk in stride(from: 0, to: full, by: 64) {
                        block(UnsafeRawBufferPointer(rebasing: input[chunk..<(chunk + 64)]), &h, w, k)
                    }
                    for chunk in stride(from: 0, to: end, by: 64) {
                        block(UnsafeRawBufferPointer(rebasing: lastBytes[chunk..<(chunk + 64)]), &h, w, k)
                    }
                }
            }
        }
        func put(_ i: Int, _ word: UInt32) {
            for j in 0..<4 { out[i * 4 + j] = UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * j)) }
        }
        put(0, h.0); put(1, h.1); put(2, h.2); put(3, h.3)
        put(4, h.4); put(5, h.5); put(6, h.6); put(7, h.7)
    }

    /// One 64-byte block into the state `h`; `w` is the 64-word schedule (scratch).
    @inline(__always)
    private static func block(_ chunk: UnsafeRawBufferPointer,
                              _ h: inout (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32),
                              _ w: UnsafeMutableBufferPointer<UInt32>, _ k: UnsafeBufferPointer<UInt32>) {
        for i in 0..<16 {
            let b = i * 4
            w[i] = UInt32(chunk[b]) << 24 | UInt32(chunk[b + 1]) << 16 | UInt32(chunk[b + 2]) << 8 | UInt32(chunk[b + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = h
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
    }

    /// The digest as lowercase hex: its first `bytes` bytes (all 32 by default), two digits each.
    static func hex(_ text: String, bytes: Int = 32) -> String {
        var text = text
        let bytes = min(max(bytes, 0), 32)
        return text.withUTF8 { input in
            withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { digest in
                Self.digest(digest, of: UnsafeRawBufferPointer(input))
                return String(unsafeUninitializedCapacity: 2 * bytes) { hex in
                    for (i, byte) in digest.prefix(bytes).enumerated() {
                        hex[2 * i] = hexDigit(byte >> 4)
                        hex[2 * i + 1] = hexDigit(byte & 15)
                    }
                    return 2 * bytes
                }
            }
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
}
