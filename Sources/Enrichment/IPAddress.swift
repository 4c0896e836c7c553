/// An IPv4 or IPv6 address, parsed without Foundation or `getaddrinfo`.
///
/// Enrichment keeps its own small address type so it does not depend on the
/// event model; the pipeline converts at the boundary. An IPv4-mapped IPv6
/// address (`::ffff:a.b.c.d`) stays IPv6 here; ``unmapped`` gives its IPv4
/// address, which is what GeoIP, the Tor set and classification use.
public enum IPAddress: Hashable, Sendable {
    case v4(UInt32)
    case v6(UInt128)

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text, as Python's
    /// `ipaddress.ip_address` does: IPv4 octets are decimal without leading
    /// zeros; IPv6 may end in an IPv4 address and carry a `%zone`, which is dropped.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ IPAddress.parse($0) }) else { return nil }
        self = parsed
    }

    /// Parses the text of a substring or another string type (copied into a `String` first).
    public init?(_ text: some StringProtocol) {
        self.init(String(text))
    }

    /// Parses an address from UTF-8 bytes (no allocation).
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let parsed = IPAddress.parse(bytes) else { return nil }
        self = parsed
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:0:0/96`).
    public var ipv4Mapped: UInt32? {
        guard case .v6(let value) = self, value >> 32 == 0xFFFF else { return nil }
        return UInt32(truncatingIfNeeded: value)
    }

    /// The address with IPv4-mapped IPv6 turned into its IPv4 address.
    public var unmapped: IPAddress {
        if let v4 = ipv4Mapped { return .v4(v4) }
        return self
    }

    /// True for IPv4 (not for IPv4-mapped IPv6).
    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        if bytes.isEmpty || bytes.count > 64 { return nil }
        var sawColon = false
        for byte in bytes where byte == UInt8(ascii: ":") {
            sawColon = true
            break
        }
        if sawColon {
            return parseV6(bytes).map { .v6($0) }
        }
        return parseV4(bytes[...]).map { .v4($0) }
    }

    /// Strict dotted quad: four decimal octets 0...255, no leading zeros.
    static func parseV4(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var parts = 0
        var leadingZero = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | octet
                parts += 1
                octet = 0
                digits = 0
                leadingZero = false
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            if leadingZero { return nil }
            if digits == 0 && byte == UInt8(ascii: "0") { leadingZero = true }
            octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
            digits += 1
            guard digits <= 3, octet <= 255 else { return nil }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | octet
    }

    static func parseV6(_ all: UnsafeBufferPointer<UInt8>) -> UInt128? {
        var end = all.count
        if let percent = all.firstIndex(of: UInt8(ascii: "%")) {
            guard percent + 1 < all.count else { return nil }  // empty zone
            end = percent
        }
        let bytes = all[0..<end]
        guard bytes.count >= 2 else { return nil }
        // Groups before "::" accumulate in `head`, after it in `tail`.
        var head: UInt128 = 0, tail: UInt128 = 0
        var headCount = 0, tailCount = 0
        var sawGap = false
        var index = bytes.startIndex
        func append(_ group: UInt128, _ width: Int) {
            if sawGap { tail = tail << (16 * width) | group; tailCount += width }
            else { head = head << (16 * width) | group; headCount += width }
        }
        if bytes[index] == UInt8(ascii: ":") {
            guard bytes[index + 1] == UInt8(ascii: ":") else { return nil }
            sawGap = true
            index += 2
        }
        while index < bytes.endIndex {
            // One hextet, or a trailing IPv4 address.
            var value: UInt32 = 0
            var digits = 0
            var cursor = index
            while cursor < bytes.endIndex, let nibble = hexValue(bytes[cursor]) {
                value = value << 4 | UInt32(nibble)
                digits += 1
                cursor += 1
                if digits > 4 { return nil }
            }
            if cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: ".") {
                guard headCount + tailCount <= 6, let v4 = parseV4(bytes[index..<bytes.endIndex]) else { return nil }
                append(UInt128(v4), 2)
                break
            }
            guard digits > 0, headCount + tailCount < 8 else { return nil }
            append(UInt128(value), 1)
            index = cursor
            if index == bytes.endIndex { break }
            guard bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: ":") {
                guard !sawGap else { return nil }
                sawGap = true
                index += 1
            } else if index == bytes.endIndex {
                return nil  // trailing single colon
            }
        }
        let count = headCount + tailCount
        if sawGap {
            guard count < 8 else { return nil }  // "::" stands for at least one group
            return headCount == 0 ? tail : head << (16 * (8 - headCount)) | tail
        }
        guard count == 8 else { return nil }
        return head
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension IPAddress: CustomStringConvertible {
    /// Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest run of
    /// two or more zero groups compressed); IPv4-mapped as `::ffff:a.b.c.d`.
    public var description: String {
        switch self {
        case .v4(let value):
            return IPAddress.dottedQuad(value)
        case .v6(let value):
            if let v4 = ipv4Mapped { return "::ffff:" + IPAddress.dottedQuad(v4) }
            var groups: [UInt16] = []
            groups.reserveCapacity(8)
            for i in (0..<8).reversed() { groups.append(UInt16(truncatingIfNeeded: value >> (16 * i))) }
            var bestStart = -1, bestLength = 0, runStart = -1
            for i in 0...8 {
                if i < 8 && groups[i] == 0 {
                    if runStart < 0 { runStart = i }
                } else if runStart >= 0 {
                    if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                    runStart = -1
                }
            }
            func hex(_ range: Range<Int>) -> String {
                groups[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            guard bestLength >= 2 else { return hex(0..<8) }
            return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
        }
    }

    static func dottedQuad(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

extension IPAddress: Comparable {
    /// IPv4 sorts before IPv6; within a family, numerically.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v6(let a), .v6(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }
}
