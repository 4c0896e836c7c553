import CSimdJSON

/// Reuses `String`s for values that repeat across events (user names, groups,
/// user agents, cluster labels, authorization reasons): a hit is a hash, a
/// byte compare and a retain instead of a validation pass and an allocation.
///
/// Direct-mapped and bounded: a miss overwrites its slot. Strings of 15 bytes
/// or fewer (stored inline by Swift, no reference count) have a table of
/// their own keyed by their bytes as two words.
///
/// Owns its tables (``StringTables``) and frees them in deinit; the JSON
/// decoder's hot paths use ``tables`` directly.
///
/// - Important: not thread-safe; owned by one ``AuditRecordDecoder`` (or
///   ``CompactEventDecoder``).
final class StringCache {
    /// The tables as a trivial value: passed around with no reference
    /// counting (a class reference is retained and released around every
    /// call that is not inlined, twice per string an event reads).
    let tables: StringTables

    /// `slots` is rounded up to a power of two; 0 disables the cache.
    init(slots: Int) { tables = StringTables(slots: slots) }

    deinit { tables.deallocate() }

    /// ``StringTables/string(_:)``.
    @inline(__always)
    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String { tables.string(bytes) }

    /// ``StringTables/hash(_:seed:)``.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        StringTables.hash(bytes, seed: seed)
    }
}

/// ``StringCache``'s tables: plain pointers, so a lookup makes no
/// copy-on-write check, no bounds check and no retain of a table, and the
/// value itself is trivial (copying it counts no references). Valid while
/// the ``StringCache`` that made it lives (its owner keeps both).
/// Exclusivity holds by construction (one owner, no reentrancy).
struct StringTables {
    /// A hash and its string side by side (40 bytes: a lookup touches one
    /// cache line, or two for an entry that straddles one). `bytes` is where
    /// the string's own UTF-8 lies (nil when not in one piece): a hit
    /// compares against it without touching `string`, which a compare
    /// through it retained and released (two reference-count calls per hit,
    /// besides the retain of the string returned). Valid while the entry
    /// holds `string`: a native string's storage does not move, and nothing
    /// mutates it (a holder's mutation copies it first, as the entry shares
    /// it).
    struct Entry {
        var hash: UInt64
        var bytes: UnsafePointer<UInt8>?
        var count: Int
        var string: String

        init(hash: UInt64, string: String) {
            self.hash = hash
            self.string = string
            count = string.utf8.count
            // Only a string stored on the heap has bytes that stay put (a small
            // string's are copied out for the call); the table holds no others
            // but its empty initial entries, which no lookup reaches.
            bytes = count > 15 ? string.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil : nil
        }
    }
    private let entries: UnsafeMutablePointer<Entry>
    private let mask: Int
    // Whole lists (groups, process arguments), keyed by the hash of their elements.
    private let listHashes: UnsafeMutablePointer<UInt64>
    private let lists: UnsafeMutablePointer<[String]>
    private let listMask: Int
    /// A string of at most 15 bytes keyed by its bytes (``SmallKey``).
    struct SmallEntry {
        var key: SmallKey
        var string: String
    }
    private let smallEntries: UnsafeMutablePointer<SmallEntry>
    private let smallMask: Int
    /// 64 minus the small table's index bits: a slot is the hash's top bits.
    private let smallShift: UInt64

    /// `slots` is rounded up to a power of two; 0 disables the cache.
    fileprivate init(slots: Int) {
        let count = cacheSlots(slots)
        entries = table(count, Entry(hash: 0, string: ""))
        mask = count - 1
        let listCount = count > 0 ? max(count / 4, 1) : 0
        listHashes = table(listCount, 0)
        lists = table(listCount, [])
        listMask = listCount - 1
        let smallCount = count > 0 ? max(count / 8, 16) : 0
        smallEntries = table(smallCount, SmallEntry(key: SmallKey(), string: ""))
        smallMask = smallCount - 1
        smallShift = UInt64(64 - max(smallCount, 1).trailingZeroBitCount)
    }

    fileprivate func deallocate() {
        freeTable(entries, mask + 1)
        freeTable(listHashes, listMask + 1)
        freeTable(lists, listMask + 1)
        freeTable(smallEntries, smallMask + 1)
    }

    /// A hash of `bytes` (`vj_hash_bytes`), seeded with `seed`.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        guard let base = bytes.baseAddress else { return seed }
        return vj_hash_bytes(base, bytes.count, seed)
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

    /// A string of at most 15 bytes from the small-string table (keyed by its
    /// bytes as two words: no hashing loop, no memcmp, and a hit copies two
    /// words with no reference count); longer strings are made, not cached.
    @inline(__always)
    func small(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count <= 15, smallMask >= 0, let base = bytes.baseAddress else {
            return String(decoding: bytes, as: UTF8.self)
        }
        let key = SmallKey(base, count: bytes.count)
        // The product's top bits depend on every bit of its input (its low
        // bits only on the input's low bits: folding bits 32-41 down let
        // only each word's low 5 bytes reach a slot).
        let h = (key.w0 ^ (key.w1 &* 0x9E37_79B9_7F4A_7C15) ^ (key.tag << 56)) &* 0xff51_afd7_ed55_8ccd
        let slot = Int(truncatingIfNeeded: h >> smallShift) & smallMask
        let entry = smallEntries + slot
        if entry.pointee.key == key { return entry.pointee.string }
        let made = String(decoding: bytes, as: UTF8.self)
        entry.pointee = SmallEntry(key: key, string: made)
        return made
    }

    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if bytes.count <= 15 { return small(bytes) }
        guard mask >= 0 else { return String(decoding: bytes, as: UTF8.self) }
        let h = Self.hash(bytes, seed: 0xcbf2_9ce4_8422_2325)
        let slot = Int(truncatingIfNeeded: h) & mask
        let entry = entries + slot
        // Every entry this writes holds a heap string (over 15 bytes), so its `bytes` are set.
        if entry.pointee.hash == h, entry.pointee.count == bytes.count, let have = entry.pointee.bytes,
           let base = bytes.baseAddress, memcmp(have, base, bytes.count) == 0 {
            return entry.pointee.string
        }
        let made = String(decoding: bytes, as: UTF8.self)
        entry.pointee = Entry(hash: h, string: made)
        return made
    }
}

/// `slots` rounded up to a power of two; 0 stays 0 (a disabled cache).
func cacheSlots(_ slots: Int) -> Int {
    guard slots > 0 else { return 0 }
    var n = 1
    while n < slots { n <<= 1 }
    return n
}

/// A cache table of `count` entries (at least one) set to `value`; the owner
/// frees it with ``freeTable(_:_:)``.
func table<T>(_ count: Int, _ value: T) -> UnsafeMutablePointer<T> {
    let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
    p.initialize(repeating: value, count: max(count, 1))
    return p
}

/// Deinitializes and frees a ``table(_:_:)`` of `count` entries.
func freeTable<T>(_ p: UnsafeMutablePointer<T>, _ count: Int) {
    p.deinitialize(count: max(count, 1))
    p.deallocate()
}

/// A string of at most 15 bytes as a cache key: its bytes as two words and a
/// length tag (never 0, so an empty entry never matches). Compared as three
/// words: no hashing loop, no memcmp.
struct SmallKey: Equatable {
    var w0: UInt64 = 0
    var w1: UInt64 = 0
    var tag: UInt64 = 0

    /// An empty entry's key (matches no string).
    init() {}

    /// The key of the `count` (at most 15) bytes at `base`.
    @inline(__always)
    init(_ base: UnsafePointer<UInt8>, count: Int) {
        vj_small_words(base, count, &w0, &w1)
        tag = UInt64(count) | 0x100
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
