import CSimdJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes that determine an event part (a user, an object reference, a
/// response, the authorization annotations): each member's kind, length and
/// bytes, written into the decoder's scratch buffer.
///
/// Only members that decode without a warning can be keyed (strings, exact
/// integers, lists of strings, absent or null); anything else makes the key
/// unusable and the caller decodes that part field by field, with warnings.
/// Keys of picked members are written by `vj_part_key` (C), the parts of an
/// event once for the combined lookup and its parts (``PartKeys``); the few
/// keys built member by member here (GKE) use the same encoding.
struct PartKey {
    private let base: UnsafeMutablePointer<UInt8>?
    private let capacity: Int
    private(set) var count = 0
    private(set) var usable = true

    /// A key that is never looked up: the part is read field by field.
    static var unusable: PartKey { PartKey() }

    private init() {
        base = nil
        capacity = 0
        usable = false
    }

    init(_ scratch: UnsafeMutablePointer<UInt8>, capacity: Int) {
        base = scratch
        self.capacity = capacity
    }

    /// The key of the members `spec` names, written in one C call.
    init(_ scratch: UnsafeMutablePointer<UInt8>, capacity: Int, _ f: PickedFields, _ spec: PartSpec) {
        base = scratch
        self.capacity = capacity
        guard let values = f.values.baseAddress, let found = f.found.baseAddress,
              spec.maxPosition < f.found.count else {
            usable = false
            return
        }
        let n = vj_part_key(values, found, spec.positions, spec.modes, spec.count, scratch, capacity)
        if n < 0 { usable = false } else { count = n }
    }

    /// A key already written (a slice of ``PartKeys``); nothing is added to it.
    init(written: UnsafeMutablePointer<UInt8>, count: Int) {
        base = written
        capacity = count
        self.count = count
    }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    private mutating func put(_ tag: UInt8, _ length: Int, _ payload: UnsafeBufferPointer<UInt8>?) {
        guard usable, let base, length <= Int(UInt32.max), count + 5 + (payload?.count ?? 0) <= capacity else {
            usable = false
            return
        }
        base[count] = tag
        UnsafeMutableRawPointer(base + count + 1).storeBytes(of: UInt32(truncatingIfNeeded: length), as: UInt32.self)
        count += 5
        if let payload, let source = payload.baseAddress, !payload.isEmpty {
            (base + count).update(from: source, count: payload.count)
            count += payload.count
        }
    }

    /// A member read as a string.
    mutating func string(_ node: JSONNode?) {
        guard usable else { return }
        guard let node, !node.isNull else { return put(0, 0, nil) }
        guard let bytes = node.stringBytes else { usable = false; return }
        put(1, bytes.count, bytes)
    }

    /// A GKE `resourceName` (its ``ResourcePath`` when it is a string):
    /// without the object's name when nothing else depends on it (the bytes
    /// before and after it, tagged apart from a whole string), so entries
    /// for different objects of the same kind share their parts.
    mutating func resourceName(_ node: JSONNode?, _ path: ResourcePath?) {
        guard usable else { return }
        guard let path, let name = path.nameRange else { return string(node) }
        let bytes = path.bytes
        put(6, name.lowerBound, UnsafeBufferPointer(rebasing: bytes[..<name.lowerBound]))
        put(7, bytes.count - name.upperBound, UnsafeBufferPointer(rebasing: bytes[name.upperBound...]))
    }

    /// A number the part also depends on (GKE's gRPC code).
    mutating func value(_ v: Int) {
        var value = Int64(v)
        withUnsafeBytes(of: &value) { put(5, 8, $0.bindMemory(to: UInt8.self)) }
    }
}

/// Which picked members make a part, and how each is read (`vj_key_mode`).
///
/// Built once into memory that is never freed nor mutated (specs are
/// static); that is why the `@unchecked Sendable` is safe.
struct PartSpec: @unchecked Sendable {
    let positions: UnsafePointer<UInt8>
    let modes: UnsafePointer<UInt8>
    let count: Int
    let maxPosition: Int
    /// Where each part ends (one part unless built by concatenating).
    let ends: UnsafePointer<UInt8>
    let parts: Int

    init<K: RawRepresentable>(_ members: [(K, vj_key_mode)]) where K.RawValue == Int {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(members.count, 1))
        let m = UnsafeMutablePointer<UInt8>.allocate(capacity: max(members.count, 1))
        for (i, member) in members.enumerated() {
            p[i] = UInt8(truncatingIfNeeded: member.0.rawValue)
            m[i] = UInt8(truncatingIfNeeded: member.1.rawValue)
        }
        positions = UnsafePointer(p)
        modes = UnsafePointer(m)
        count = members.count
        maxPosition = members.map(\.0.rawValue).max() ?? 0
        let e = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        e[0] = UInt8(truncatingIfNeeded: members.count)
        ends = UnsafePointer(e)
        parts = 1
    }

    /// The members of `parts`, in order: the key of several parts looked up as one.
    init(concatenating parts: [PartSpec]) {
        let total = parts.reduce(0) { $0 + $1.count }
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(total, 1))
        let m = UnsafeMutablePointer<UInt8>.allocate(capacity: max(total, 1))
        let e = UnsafeMutablePointer<UInt8>.allocate(capacity: max(parts.count, 1))
        var at = 0
        for (k, part) in parts.enumerated() {
            (p + at).update(from: part.positions, count: part.count)
            (m + at).update(from: part.modes, count: part.count)
            at += part.count
            e[k] = UInt8(truncatingIfNeeded: at)
        }
        positions = UnsafePointer(p)
        modes = UnsafePointer(m)
        count = total
        maxPosition = parts.map(\.maxPosition).max() ?? 0
        ends = UnsafePointer(e)
        self.parts = parts.count
    }
}

/// The keys of a concatenated spec's parts (``PartCaches/keys(_:_:)``),
/// written once, one after another: all of them together are the key of
/// the combined lookup, and each part's key is its slice, so a combined miss
/// looks its parts up without writing their keys again.
struct PartKeys {
    let base: UnsafeMutablePointer<UInt8>
    let lengths: UnsafeMutablePointer<Int>
    let parts: Int
    let usable: Bool

    /// The key of part `k`.
    subscript(_ k: Int) -> PartKey {
        guard usable, k < parts, lengths[k] >= 0 else { return .unusable }
        var offset = 0
        for i in 0..<k where lengths[i] > 0 { offset += lengths[i] }
        return PartKey(written: base + offset, count: lengths[k])
    }

    /// The key of all the parts together (unusable when one part's is).
    var all: PartKey {
        guard usable else { return .unusable }
        var total = 0
        for i in 0..<parts {
            guard lengths[i] >= 0 else { return .unusable }
            total += lengths[i]
        }
        return PartKey(written: base, count: total)
    }
}

/// Event parts already made, by the bytes they were made from: a hit is a
/// hash, a memcmp and one retain for the whole part (a user with its groups,
/// an object reference with five strings) instead of a lookup and a retain per
/// field. Direct-mapped and bounded like ``StringCache``.
typealias PartCache<Value: Hashable & Sendable> = KeyedCache<Shared<Value>>

/// Values made from bytes, by those bytes: shared parts (``PartCache``), or
/// small values kept by value (a source-IP list and its warnings: no box of
/// its own per new list).
///
/// - Important: not thread-safe; owned by one ``AuditRecordDecoder``. The
///   values it hands out are immutable and may go anywhere.
final class KeyedCache<Stored> {
    struct Entry {
        var hash: UInt64
        /// The key's bytes: the first `length` bytes of a buffer reused by
        /// the slot's next keys while they fit.
        var key: UnsafeMutableBufferPointer<UInt8>
        var length: Int
        var value: Stored?
    }
    private let entries: UnsafeMutablePointer<Entry>
    private let mask: Int

    /// `slots` is rounded up to a power of two; 0 disables the cache.
    init(slots: Int) {
        let count = cacheSlots(slots)
        entries = table(count, Entry(hash: 0, key: UnsafeMutableBufferPointer(start: nil, count: 0), length: 0, value: nil))
        mask = count - 1
    }

    deinit {
        for i in 0...max(mask, 0) { entries[i].key.deallocate() }
        freeTable(entries, mask + 1)
    }

    @inline(__always)
    private static func same(_ entry: Entry, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard entry.length == b.count else { return false }
        guard let x = entry.key.baseAddress, let y = b.baseAddress else { return b.count == 0 }
        return memcmp(x, y, b.count) == 0
    }

    /// ``value(_:make:slow:)`` with one builder: quiet when the key is usable (a keyed value
    /// gives no warning), with `w` field by field when it is not.
    @inline(__always)
    func value(_ key: PartKey, _ w: inout DecodeWarnings, _ build: (inout DecodeWarnings) -> Stored) -> Stored {
        value(key, make: { quiet(build) }, slow: { build(&w) })
    }

    /// The value for `key`: the cached one when the same bytes made it, else
    /// `make()`'s (remembered). Field by field with `slow` when `key` is unusable.
    @inline(__always)
    func value(_ key: PartKey, make: () -> Stored, slow: () -> Stored) -> Stored {
        value(Lookup(key: key, hash: key.usable && mask >= 0 ? Self.hash(key) : 0), make: make, slow: slow)
    }

    /// A key and its hash, its entry requested from memory by ``prefetch(_:)``.
    struct Lookup {
        let key: PartKey
        let hash: UInt64
    }

    @inline(__always)
    private static func hash(_ key: PartKey) -> UInt64 {
        StringCache.hash(key.bytes, seed: 0x9E37_79B9_7F4A_7C15)
    }

    /// `key` hashed, with its entry requested from memory: a lookup of a
    /// table this size often waits on the entry, so a caller with other work
    /// to do starts it first and looks the value up later.
    /// The key's bytes must stay as they are until then.
    @inline(__always)
    func prefetch(_ key: PartKey) -> Lookup {
        guard key.usable, mask >= 0 else { return Lookup(key: key, hash: 0) }
        let h = Self.hash(key)
        vj_prefetch(entries + (Int(truncatingIfNeeded: h) & mask))
        return Lookup(key: key, hash: h)
    }

    /// ``value(_:_:_:)`` for a prefetched key.
    @inline(__always)
    func value(_ lookup: Lookup, _ w: inout DecodeWarnings, _ build: (inout DecodeWarnings) -> Stored) -> Stored {
        value(lookup, make: { quiet(build) }, slow: { build(&w) })
    }

    @inline(__always)
    private func value(_ lookup: Lookup, make: () -> Stored, slow: () -> Stored) -> Stored {
        guard lookup.key.usable else { return slow() }
        guard mask >= 0 else { return make() }
        let bytes = lookup.key.bytes
        if let value = cached(bytes, hash: lookup.hash) { return value }
        let made = make()
        remember(made, bytes, hash: lookup.hash)
        return made
    }

    /// The value these bytes made, if it is still cached; else `make()`'s, remembered only
    /// when it is not nil (bytes that made nothing are never answered from the cache).
    @inline(__always)
    func value(_ bytes: UnsafeBufferPointer<UInt8>, make: () -> Stored?) -> Stored? {
        guard mask >= 0 else { return make() }
        let h = StringCache.hash(bytes, seed: 0x9E37_79B9_7F4A_7C15)
        if let value = cached(bytes, hash: h) { return value }
        guard let made = make() else { return nil }
        remember(made, bytes, hash: h)
        return made
    }

    @inline(__always)
    private func cached(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Stored? {
        let entry = entries + (Int(truncatingIfNeeded: h) & mask)
        if entry.pointee.hash == h, let value = entry.pointee.value, Self.same(entry.pointee, bytes) {
            return value
        }
        return nil
    }

    private func remember(_ made: Stored, _ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64) {
        let entry = entries + (Int(truncatingIfNeeded: h) & mask)
        if entry.pointee.key.count < bytes.count {
            entry.pointee.key.deallocate()
            entry.pointee.key = .allocate(capacity: max(bytes.count, 64))
        }
        if let source = bytes.baseAddress, let target = entry.pointee.key.baseAddress {
            target.update(from: source, count: bytes.count)
        }
        entry.pointee.hash = h
        entry.pointee.length = bytes.count
        entry.pointee.value = made
    }
}

extension KeyedCache {
    /// The shared part for `key` (``value(_:_:_:)``), made by `build` when not cached.
    @inline(__always)
    func part<Value>(_ key: PartKey, _ w: inout DecodeWarnings, _ build: (inout DecodeWarnings) -> Value) -> Stored
    where Stored == Shared<Value> {
        value(key, make: { Shared(quiet(build)) }, slow: { Shared(build(&w)) })
    }

    /// ``part(_:_:_:)`` for a prefetched key.
    @inline(__always)
    func part<Value>(_ lookup: Lookup, _ w: inout DecodeWarnings, _ build: (inout DecodeWarnings) -> Value) -> Stored
    where Stored == Shared<Value> {
        value(lookup, make: { Shared(quiet(build)) }, slow: { Shared(build(&w)) })
    }

    /// The shared part these bytes made (``value(_:make:)``).
    @inline(__always)
    func part<Value>(_ bytes: UnsafeBufferPointer<UInt8>, make: () -> Value?) -> Stored? where Stored == Shared<Value> {
        value(bytes, make: { make().map(Shared.init) })
    }
}

/// The decoder's part caches and the scratch buffer keys are built in.
///
/// - Important: not thread-safe; owned by one ``AuditRecordDecoder``.
final class PartCaches {
    let users: PartCache<UserInfo>
    let objects: PartCache<ObjectReference>
    let responses: PartCache<ResponseStatus>
    let authorizations: PartCache<AuthorizationAnnotations>
    let requests: PartCache<RequestLine>
    /// GKE: what an entry's method, resource name and user agent make.
    let resources: PartCache<AuditRecordDecoder.GKEResource>
    /// Lists of strings (source IPs), by value.
    let lists: KeyedCache<SourceIPList>
    /// Source-IP lists of one short address (most of them), by the address.
    let addresses: AddressCache
    /// Process events: the user and pod namespace, as parts.
    let processParts: PartCache<EventParts>
    let events: PartCache<EventParts>
    /// GKE: an entry's parts (``AuditRecordDecoder/entryPartsSpec``).
    let entries: PartCache<EventParts>
    /// Two regions: ``keys(_:_:)`` writes in the second, ``key()`` and
    /// ``key(_:_:)`` in the first.
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchBytes = 4096
    /// The part lengths of ``keys(_:_:)`` (up to 16 parts).
    private let lengths: UnsafeMutablePointer<Int>

    /// False when the decoder runs without caches (`stringCacheSlots` 0).
    let enabled: Bool

    init(slots: Int) {
        enabled = slots > 0
        users = PartCache(slots: slots)
        objects = PartCache(slots: slots)
        responses = PartCache(slots: slots)
        authorizations = PartCache(slots: slots)
        lists = KeyedCache(slots: slots)
        addresses = AddressCache(slots: slots)
        requests = PartCache(slots: slots)
        resources = PartCache(slots: slots)
        events = PartCache(slots: slots)
        entries = PartCache(slots: slots)
        processParts = PartCache(slots: slots)
        scratch = .allocate(capacity: 2 * Self.scratchBytes)
        lengths = .allocate(capacity: 16)
    }

    deinit {
        scratch.deallocate()
        lengths.deallocate()
    }

    /// The keys of `spec`'s parts, written one after another in the
    /// scratch buffer's second region, so the keys made by ``key()`` while
    /// they are looked up leave them intact (valid until the next call).
    func keys(_ f: PickedFields, _ spec: PartSpec) -> PartKeys {
        let base = scratch + Self.scratchBytes
        guard let values = f.values.baseAddress, let found = f.found.baseAddress,
              spec.maxPosition < f.found.count, spec.parts <= 16 else {
            return PartKeys(base: base, lengths: lengths, parts: 0, usable: false)
        }
        vj_part_keys(values, found, spec.positions, spec.modes, spec.ends, spec.parts, base, Self.scratchBytes, lengths)
        return PartKeys(base: base, lengths: lengths, parts: spec.parts, usable: true)
    }

    /// The key of `spec`'s members in the second region (where ``keys(_:_:)``
    /// writes), with room for more members after them (valid until the next
    /// key written there).
    func longKey(_ f: PickedFields, _ spec: PartSpec) -> PartKey {
        PartKey(scratch + Self.scratchBytes, capacity: Self.scratchBytes, f, spec)
    }

    /// The key of picked members in the first region (valid until the next key).
    func key(_ f: PickedFields, _ spec: PartSpec) -> PartKey {
        PartKey(scratch, capacity: Self.scratchBytes, f, spec)
    }

    /// A key written into the scratch buffer (valid until the next key).
    func key() -> PartKey { PartKey(scratch, capacity: Self.scratchBytes) }

}
