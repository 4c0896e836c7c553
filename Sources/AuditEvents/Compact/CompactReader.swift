/// Reads what ``CompactWriter`` wrote, from bytes the caller keeps alive.
///
/// Errors are sticky: a read past the end (or a varint longer than ten bytes, a length that
/// does not fit) sets ``failed`` and every later read returns an empty value, so a decoder
/// reads a whole structure and checks once. Never traps on any input.
public struct CompactReader {
    public let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var position: Int
    /// True once a read ran past the end or met a malformed value.
    public private(set) var failed = false
    /// Repeated strings are shared through it (a hit allocates nothing).
    let interner: StringCache?

    public init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        self.init(bytes, position: position, strings: nil)
    }

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0, strings: StringCache?) {
        self.bytes = bytes
        self.position = position
        interner = strings
    }

    /// True when every byte was read and nothing failed.
    public var atEnd: Bool { !failed && position == bytes.count }

    /// Marks the input as malformed (a value out of its range).
    public mutating func fail() { failed = true }

    public mutating func byte() -> UInt8 {
        guard !failed, position < bytes.count else { failed = true; return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func bool() -> Bool {
        let b = byte()
        if b > 1 { failed = true }
        return b == 1
    }

    public mutating func varint() -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while !failed {
            guard position < bytes.count, shift < 64 else { failed = true; return 0 }
            let b = bytes[position]
            position += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
        return 0
    }

    public mutating func int() -> Int64 {
        let v = varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    public mutating func fixed64() -> UInt64 {
        guard !failed, bytes.count - position >= 8, let base = bytes.baseAddress else { failed = true; return 0 }
        defer { position += 8 }
        return UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
    }

    /// A length read as a varint, checked against what is left.
    public mutating func length() -> Int {
        let v = varint()
        guard !failed, v <= UInt64(bytes.count - position) else { failed = true; return 0 }
        return Int(v)
    }

    /// The next `count` bytes, in place.
    public mutating func take(_ count: Int) -> UnsafeBufferPointer<UInt8> {
        guard !failed, count >= 0, count <= bytes.count - position, let base = bytes.baseAddress else {
            failed = true
            return UnsafeBufferPointer(start: nil, count: 0)
        }
        defer { position += count }
        return UnsafeBufferPointer(start: base + position, count: count)
    }

    /// A block's bytes (``CompactWriter/block(_:)``), in place.
    public mutating func block() -> UnsafeBufferPointer<UInt8> {
        let length = Int(byte()) | Int(byte()) << 8 | Int(byte()) << 16 | Int(byte()) << 24
        return take(length)
    }

    /// A reader over a block's bytes, sharing this reader's string cache.
    public func reader(of block: UnsafeBufferPointer<UInt8>) -> CompactReader {
        CompactReader(block, strings: interner)
    }

    /// UTF-8 bytes as a String (invalid sequences repaired, as everywhere in Vigil).
    func make(_ utf8: UnsafeBufferPointer<UInt8>) -> String {
        interner?.string(utf8) ?? String(decoding: utf8, as: UTF8.self)
    }

    public mutating func string() -> String {
        make(take(length()))
    }

    public mutating func optionalString() -> String? {
        let tag = varint()
        guard tag > 0, !failed else { return nil }
        guard tag - 1 <= UInt64(bytes.count - position) else { failed = true; return nil }
        return make(take(Int(tag - 1)))
    }

    /// What ``CompactWriter/optionalText(_:)`` (or `optionalString`) wrote, kept inline.
    mutating func optionalText() -> InlineText? {
        let tag = varint()
        guard tag > 0, !failed else { return nil }
        guard tag - 1 <= UInt64(bytes.count - position) else { failed = true; return nil }
        let utf8 = take(Int(tag - 1))
        // ASCII (every UUID) is valid UTF-8 as it is; other bytes go through
        // a String, which repairs invalid sequences as make() does.
        if utf8.allSatisfy({ $0 < 0x80 }) { return InlineText(validUTF8: utf8) }
        return InlineText(make(utf8))
    }

    public mutating func optionalInt() -> Int64? {
        switch byte() {
        case 0: return nil
        case 1: return int()
        default: failed = true; return nil
        }
    }

    public mutating func optionalDouble() -> Double? {
        switch byte() {
        case 0: return nil
        case 1: return Double(bitPattern: fixed64())
        default: failed = true; return nil
        }
    }

    public mutating func strings() -> [String] {
        let count = varint()
        // Each string takes at least one byte: a larger count is damage, not a reason to allocate.
        guard !failed, count <= UInt64(bytes.count - position) else { failed = true; return [] }
        if count == 0 { return [] }
        var out: [String] = []
        out.reserveCapacity(Int(count))
        for _ in 0..<count {
            out.append(string())
            if failed { return [] }
        }
        return out
    }

    public mutating func blob() -> [UInt8] {
        Array(take(length()))
    }
}
