/// Reuses `String`s for values that repeat across events (user names, groups,
/// user agents, cluster labels, authorization reasons): a hit is a hash, a
/// byte compare and a retain instead of a validation pass and an allocation.
///
/// Direct-mapped and bounded: a miss overwrites its slot. Strings of 15 bytes
/// or fewer are stored inline by Swift and bypass the cache.
///
/// - Important: not thread-safe; owned by one ``AuditRecordDecoder``.
final class StringCache {
    // Exclusivity holds by construction (one owner, no reentrancy); the
    // runtime's access tracking cost more than the cache saved.
    @exclusivity(unchecked) private var hashes: [UInt64]
    @exclusivity(unchecked) private var strings: [String]
    private let mask: Int
    // Whole lists (groups, source IPs), keyed by the hash of their elements.
    @exclusivity(unchecked) private var listHashes: [UInt64]
    @exclusivity(unchecked) private var lists: [[String]]
    private let listMask: Int
    // Source IP lists already found valid, by storage identity (see isKnownValid).
    @exclusivity(unchecked) private var validLists: [[String]]

    /// `slots` is rounded up to a power of two; 0 disables the cache.
    init(slots: Int) {
        var n = 1
        while n < slots { n <<= 1 }
        let count = slots > 0 ? n : 0
        hashes = [UInt64](repeating: 0, count: count)
        strings = [String](repeating: "", count: count)
        mask = count - 1
        let listCount = count > 0 ? max(count / 4, 1) : 0
        listHashes = [UInt64](repeating: 0, count: listCount)
        lists = [[String]](repeating: [], count: listCount)
        listMask = listCount - 1
        validLists = [[String]](repeating: [], count: count > 0 ? 64 : 0)
    }

    private static func storage(_ list: [String]) -> UInt {
        list.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    /// True when `list` is (shares storage with) a list remembered by
    /// ``rememberValid(_:)``. Sound because a remembered list keeps its
    /// storage alive (no other array can get that address) and arrays are
    /// copy-on-write (nobody can change the elements of shared storage).
    func isKnownValid(_ list: [String]) -> Bool {
        guard !validLists.isEmpty, !list.isEmpty else { return false }
        let address = Self.storage(list)
        let slot = Int((address >> 4) & 63)
        return Self.storage(validLists[slot]) == address && validLists[slot].count == list.count
    }

    func rememberValid(_ list: [String]) {
        guard !validLists.isEmpty, !list.isEmpty else { return }
        validLists[Int((Self.storage(list) >> 4) & 63)] = list
    }

    /// FNV-1a over `bytes`, 8 bytes at a time, seeded with `seed`.
    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        var h: UInt64 = seed ^ UInt64(bytes.count)
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
        return h
    }

    @inline(__always)
    private static func same(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        string.utf8.withContiguousStorageIfAvailable { have -> Bool in
            guard have.count == bytes.count else { return false }
            guard let a = have.baseAddress, let b = bytes.baseAddress else { return have.count == 0 }
            return memcmp(a, b, bytes.count) == 0
        } ?? string.utf8.elementsEqual(bytes)
    }

    /// A list of strings with these elements; a hit returns the cached array
    /// (a retain). Nil when the cache is off.
    func list(_ parts: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>) -> [String]? {
        guard listMask >= 0 else { return nil }
        var h: UInt64 = 0x8422_2325_cbf2_9ce4 ^ UInt64(parts.count)
        for part in parts {
            h = (h ^ Self.hash(part, seed: 0xcbf2_9ce4_8422_2325)) &* 0x9E37_79B9_7F4A_7C15
        }
        h ^= h >> 29
        let slot = Int(truncatingIfNeeded: h) & listMask
        if listHashes[slot] == h {
            let cached = lists[slot]
            if cached.count == parts.count {
                var equal = true
                for i in 0..<parts.count where !Self.same(cached[i], parts[i]) {
                    equal = false
                    break
                }
                if equal { return cached }
            }
        }
        var made: [String] = []
        made.reserveCapacity(parts.count)
        for part in parts { made.append(string(part)) }
        listHashes[slot] = h
        lists[slot] = made
        return made
    }

    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count > 15, mask >= 0 else { return String(decoding: bytes, as: UTF8.self) }
        var h = Self.hash(bytes, seed: 0xcbf2_9ce4_8422_2325)
        h ^= h >> 29
        let slot = Int(truncatingIfNeeded: h) & mask
        if hashes[slot] == h {
            let cached = strings[slot]
            let same = Self.same(cached, bytes)
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
