/// An address block in CIDR form (`10.0.0.0/8`, `2001:db8::/32`).
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block (host bits cleared).
    public let address: IPAddress
    public let prefixLength: Int

    /// A block from an address and prefix length; host bits are cleared.
    /// Nil when the prefix is longer than the family allows.
    public init?(address: IPAddress, prefixLength: Int) {
        switch address {
        case .v4(let value):
            guard (0...32).contains(prefixLength) else { return nil }
            self.address = .v4(prefixLength == 0 ? 0 : value & ~UInt32(0) << (32 - prefixLength))
        case .v6(let value):
            guard (0...128).contains(prefixLength) else { return nil }
            self.address = .v6(prefixLength == 0 ? 0 : value & ~UInt128(0) << (128 - prefixLength))
        }
        self.prefixLength = prefixLength
    }

    /// A block whose address already has its host bits cleared.
    init(unchecked address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `address/prefix`, or a bare address as a single-address block.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        var length = address.isIPv4 ? 32 : 128
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parts[1].allSatisfy(\.isASCII) else { return nil }
            length = parsed
        }
        self.init(address: address, prefixLength: length)
    }

    /// Whether `other` lies in this block. Families never mix: an IPv4-mapped
    /// IPv6 address is not inside an IPv4 block (call ``IPAddress/unmapped`` first).
    @inline(__always)
    public func contains(_ other: IPAddress) -> Bool {
        switch (address, other) {
        case (.v4(let base), .v4(let value)):
            return prefixLength == 0 || (value ^ base) >> (32 - prefixLength) == 0
        case (.v6(let base), .v6(let value)):
            return prefixLength == 0 || (value ^ base) >> (128 - prefixLength) == 0
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
