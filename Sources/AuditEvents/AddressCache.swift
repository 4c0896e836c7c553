import CSimdJSON

/// Source-IP lists of one address of at most 15 bytes (every IPv4 address: an
/// audit Event's usual `sourceIPs`, a GKE entry's caller IP), keyed by the
/// address's bytes (``SmallKey``, as ``StringCache``'s small strings): no key
/// written, no hashing loop, no memcmp, and the address is a small `String`
/// (no allocation of its own), not looked up in the string cache.
///
/// Direct-mapped and bounded like ``KeyedCache``; a miss makes the list
/// (its one allocation) and its warnings, as ``FieldReader/sourceIPList(_:_:_:)``
/// would for the same bytes.
///
/// - Important: not thread-safe; owned by one ``AuditRecordDecoder``.
final class AddressCache {
    struct Entry {
        var key: SmallKey
        var list: SourceIPList
    }
    private let entries: UnsafeMutablePointer<Entry>
    private let mask: Int

    /// `slots` is rounded up to a power of two; 0 disables the cache.
    init(slots: Int) {
        let count = cacheSlots(slots)
        entries = table(count, Entry(key: SmallKey(), list: SourceIPList(ips: [], warnings: [])))
        mask = count - 1
    }

    deinit { freeTable(entries, mask + 1) }

    /// An address's key and its entry, requested from memory by ``prefetch(_:)``.
    struct Lookup {
        let bytes: UnsafeBufferPointer<UInt8>
        let key: SmallKey
        let slot: Int
    }

    /// The lookup of `address` (at most 15 bytes), with its entry requested
    /// from memory (the caller reads other fields before ``list(_:)``).
    @inline(__always)
    func prefetch(_ address: UnsafeBufferPointer<UInt8>) -> Lookup {
        var key = SmallKey()
        if let base = address.baseAddress { key = SmallKey(base, count: address.count) }
        // Every byte reaches the slot bits: the products' high halves are
        // folded down before the second multiply (an IPv4 address differs
        // from its neighbours in its middle and last bytes).
        var h = (key.w0 &* 0x9E37_79B9_7F4A_7C15) ^ (key.w1 &* 0xC2B2_AE3D_27D4_EB4F) ^ key.tag
        h ^= h >> 32
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 29
        let slot = Int(truncatingIfNeeded: h) & mask
        if mask >= 0 { vj_prefetch(entries + slot) }
        return Lookup(bytes: address, key: key, slot: slot)
    }

    /// The one-address list of `lookup`: the cached one when the same bytes
    /// made it, else made (and remembered).
    @inline(__always)
    func list(_ lookup: Lookup) -> SourceIPList {
        guard mask >= 0 else { return Self.make(lookup.bytes) }
        let entry = entries + lookup.slot
        if entry.pointee.key == lookup.key { return entry.pointee.list }
        let made = Self.make(lookup.bytes)
        entry.pointee = Entry(key: lookup.key, list: made)
        return made
    }

    /// The list of one address and its warning (invalid when it is no IP address).
    @inline(never)
    static func make(_ address: UnsafeBufferPointer<UInt8>) -> SourceIPList {
        SourceIPList(
            ips: [String(decoding: address, as: UTF8.self)],
            warnings: FieldReader.isIPAddress(address) ? [] : .invalidSourceIP)
    }
}

extension JSONNode {
    /// The bytes of the address when this is a source-IP list of one string of
    /// at most 15 bytes (``AddressCache``'s lists), else nil.
    var singleShortString: UnsafeBufferPointer<UInt8>? {
        var element = vj_value()
        guard vj_single_string(value, &element), let bytes = JSONNode(value: element).stringBytes,
              bytes.count <= 15 else { return nil }
        return bytes
    }

    /// The bytes of this string when it has at most 15 (a GKE caller IP for ``AddressCache``).
    var shortStringBytes: UnsafeBufferPointer<UInt8>? {
        guard let bytes = stringBytes, bytes.count <= 15 else { return nil }
        return bytes
    }
}
