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
public struct CompactWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func raw(_ b: some Collection<UInt8>) { bytes.append(contentsOf: b) }

    public mutating func varint(_ value: UInt64) {
        Self.appendVarint(value, to: &bytes)
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
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func fixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ s: String) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
        if done == nil {
            varint(UInt64(s.utf8.count))
            bytes.append(contentsOf: s.utf8)
        }
    }

    public mutating func optionalString(_ s: String?) {
        guard let s else { return byte(0) }
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { utf8 in
            varint(UInt64(utf8.count) + 1)
            bytes.append(contentsOf: utf8)
        }
        if done == nil {
            varint(UInt64(s.utf8.count) + 1)
            bytes.append(contentsOf: s.utf8)
        }
    }

    public mutating func optionalInt(_ value: Int64?) {
        guard let value else { return byte(0) }
        byte(1)
        int(value)
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
        varint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }

    /// What `body` writes, behind its length as four bytes (patched after the body): a block
    /// a reader can take whole, skip, or key a cache on.
    public mutating func block(_ body: (inout CompactWriter) -> Void) {
        let at = bytes.count
        // Four appends, not `append(contentsOf: [0, 0, 0, 0])`: that built an array (a
        // malloc and a free) for every block, 7-8 blocks per event.
        for _ in 0..<4 { bytes.append(0) }
        body(&self)
        let length = UInt32(truncatingIfNeeded: bytes.count - at - 4)
        bytes[at] = UInt8(truncatingIfNeeded: length)
        bytes[at + 1] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[at + 2] = UInt8(truncatingIfNeeded: length >> 16)
        bytes[at + 3] = UInt8(truncatingIfNeeded: length >> 24)
    }
}
