/// Writes the compact binary encoding Vigil uses between its stages (the repartition
/// record's value, version 2): little-endian, lengths and integers as LEB128 varints,
/// signed integers zigzag-encoded, optional values with a presence tag.
///
/// | value | bytes |
/// |---|---|
/// | `varint` | LEB128, 1 to 10 bytes |
/// | `int` | zigzag, then `varint` |
/// | `string` | `varint` UTF-8 length, the bytes |
/// | `optionalString` | `varint` 0 for nil, else length + 1, the bytes |
/// | `optionalInt` | byte 0 for nil, else 1 and `int` |
/// | `strings` | `varint` count, each a `string` |
/// | `block` | 4-byte length, the block (so a reader can key a cache on its bytes) |
///
/// ``CompactReader`` reads what this writes.
///
/// The bytes are written through a pointer into storage of its own: each write checks once
/// that the storage is this writer's alone and has room, then stores its bytes. Appending to
/// an `[UInt8]` byte by byte checked both per byte (a varint, a tag) and per string, ~40 times
/// per event: a fifth of encoding one (ops/bench/pipeline.md, session 10). A copied writer
/// keeps value semantics: the first write to either copies the storage.
public struct CompactWriter: Sendable {
    /// Bytes `0..<count` of `base` are written; the writer frees them.
    private final class Storage: @unchecked Sendable {
        var base: UnsafeMutablePointer<UInt8>
        var capacity: Int

        init(capacity: Int) {
            self.capacity = max(capacity, 16)
            base = .allocate(capacity: self.capacity)
        }

        deinit { base.deallocate() }
    }

    private var storage: Storage
    /// Bytes written so far.
    public private(set) var count = 0

    public init(capacity: Int = 512) {
        storage = Storage(capacity: capacity)
    }

    /// The bytes written (a copy).
    public var bytes: [UInt8] {
        [UInt8](UnsafeBufferPointer(start: storage.base, count: count))
    }

    /// Where the next `n` bytes go: storage of this writer's own with room for them.
    @inline(__always)
    private mutating func room(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if _slowPath(!isKnownUniquelyReferenced(&storage) || n > storage.capacity - count) { grow(n) }
        return storage.base + count
    }

    /// New storage with room for `n` more bytes (at least twice the old), the written bytes copied.
    private mutating func grow(_ n: Int) {
        let fresh = Storage(capacity: max(storage.capacity * 2, count + n))
        fresh.base.update(from: storage.base, count: count)
        storage = fresh
    }

    /// `v` as a varint at `p`; the bytes it took.
    @inline(__always)
    private static func put(_ value: UInt64, at p: UnsafeMutablePointer<UInt8>) -> Int {
        var v = value
        var i = 0
        while v >= 0x80 {
            p[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i += 1
        }
        p[i] = UInt8(truncatingIfNeeded: v)
        return i + 1
    }

    /// A varint `prefix` and then `bytes` (a length and what it measures, in one write).
    @inline(__always)
    public mutating func prefixed(_ prefix: UInt64, _ bytes: UnsafeBufferPointer<UInt8>) {
        let p = room(10 + bytes.count)
        let n = Self.put(prefix, at: p)
        if let source = bytes.baseAddress { (p + n).update(from: source, count: bytes.count) }
        count += n + bytes.count
    }

    public mutating func byte(_ b: UInt8) {
        room(1).pointee = b
        count += 1
    }

    public mutating func raw(_ b: some Collection<UInt8>) {
        if b.withContiguousStorageIfAvailable({ raw($0) }) == nil {
            Array(b).withUnsafeBufferPointer { raw($0) }
        }
    }

    public mutating func raw(_ b: UnsafeBufferPointer<UInt8>) {
        let p = room(b.count)
        if let source = b.baseAddress { p.update(from: source, count: b.count) }
        count += b.count
    }

    public mutating func varint(_ value: UInt64) {
        count += Self.put(value, at: room(10))
    }

    /// A varint appended to any byte array (a store packing values of its own).
    public static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// The bytes `varint(value)` writes.
    public static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var v = value >> 7
        while v > 0 {
            size += 1
            v >>= 7
        }
        return size
    }

    /// A signed integer, zigzag-encoded (small magnitudes take few bytes).
    public mutating func int(_ value: Int64) {
        varint(Self.zigzag(value))
    }

    /// `value` zigzag-encoded: 0, -1, 1, -2, … as 0, 1, 2, 3, ….
    @inline(__always)
    static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    public mutating func fixed64(_ value: UInt64) {
        let p = room(8)
        UnsafeMutableRawPointer(p).storeBytes(of: value.littleEndian, as: UInt64.self)
        count += 8
    }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { prefixed(UInt64($0.count), $0) }
    }

    public mutating func optionalString(_ s: String?) {
        guard var s else { return byte(0) }
        s.withUTF8 { prefixed(UInt64($0.count) + 1, $0) }
    }

    public mutating func optionalInt(_ value: Int64?) {
        guard let value else { return byte(0) }
        let p = room(11)
        p.pointee = 1
        count += 1 + Self.put(Self.zigzag(value), at: p + 1)
    }

    /// A double as its IEEE 754 bits; nil as a zero tag.
    public mutating func optionalDouble(_ value: Double?) {
        guard let value else { return byte(0) }
        byte(1)
        fixed64(value.bitPattern)
    }

    public mutating func strings(_ list: [String]) {
        varint(UInt64(list.count))
        for s in list { string(s) }
    }

    /// Bytes with their length in front.
    public mutating func blob(_ b: [UInt8]) {
        b.withUnsafeBufferPointer { prefixed(UInt64($0.count), $0) }
    }

    /// What `body` writes, behind its length as four bytes (patched after the body): a block
    /// a reader can take whole, skip, or key a cache on.
    public mutating func block(_ body: (inout CompactWriter) -> Void) {
        let at = count
        UnsafeMutableRawPointer(room(4)).storeBytes(of: 0, as: UInt32.self)
        count += 4
        body(&self)
        let length = UInt32(truncatingIfNeeded: count - at - 4)
        _ = room(0)
        UnsafeMutableRawPointer(storage.base + at).storeBytes(of: length.littleEndian, as: UInt32.self)
    }
}
