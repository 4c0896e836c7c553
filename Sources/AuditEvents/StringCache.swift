/// Reuses `String`s for values that repeat across events (user names, groups,
/// user agents, cluster labels, authorization reasons): a hit is a hash, a
/// byte compare and a retain instead of a validation pass and an allocation.
///
/// Direct-mapped and bounded: a miss overwrites its slot. Strings of 15 bytes
/// or fewer are stored inline by Swift and bypass the cache.
///
/// - Important: not thread-safe; owned by one ``AuditRecordDecoder``.
final class StringCache {
    private var hashes: [UInt64]
    private var strings: [String]
    private let mask: Int

    /// `slots` is rounded up to a power of two; 0 disables the cache.
    init(slots: Int) {
        var n = 1
        while n < slots { n <<= 1 }
        let count = slots > 0 ? n : 0
        hashes = [UInt64](repeating: 0, count: count)
        strings = [String](repeating: "", count: count)
        mask = count - 1
    }

    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count > 15, mask >= 0 else { return String(decoding: bytes, as: UTF8.self) }
        // FNV-1a, 8 bytes at a time.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        let raw = UnsafeRawBufferPointer(bytes)
        var i = 0
        while i + 8 <= raw.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100_0000_01b3
            i += 8
        }
        while i < raw.count {
            h = (h ^ UInt64(raw[i])) &* 0x100_0000_01b3
            i += 1
        }
        h ^= h >> 29
        let slot = Int(truncatingIfNeeded: h) & mask
        if hashes[slot] == h {
            var cached = strings[slot]
            let same = cached.withUTF8 { have -> Bool in
                guard have.count == bytes.count, let a = have.baseAddress, let b = bytes.baseAddress else { return false }
                return memcmp(a, b, bytes.count) == 0
            }
            if same {
                return cached
            }
        }
        let made = String(decoding: bytes, as: UTF8.self)
        hashes[slot] = h
        strings[slot] = made
        return made
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
