/// Public or not, with the semantics of Python's `ipaddress` (`is_global`,
/// `is_private`) as of CPython 3.13, which the Panther rules use, from the IANA
/// IPv4 and IPv6 special-purpose address registries.
///
/// One deliberate difference: an IPv4-mapped IPv6 address always follows its
/// IPv4 address, as CPython documents (`address.is_global ==
/// address.ipv4_mapped.is_global`). CPython 3.13.0's code derives it from
/// `is_private` instead, so `::ffff:100.64.0.1` is global there but not here.
extension IPAddress {
    /// True when the address is globally reachable (Python's `is_global`):
    /// loopback, RFC 1918, link-local, 100.64.0.0/10, documentation,
    /// benchmarking, reserved, unique-local and the like are not.
    public var isGlobal: Bool {
        switch unmapped {
        case .v4(let value):
            let address = IPAddress.v4(value)
            if IPAddressRanges.sharedV4.contains(address) { return false }
            return !IPAddressRanges.isPrivate(address)
        case .v6:
            return !IPAddressRanges.isPrivate(self)
        }
    }

    /// Python's `is_private`: reserved as not globally reachable. False for
    /// 100.64.0.0/10, which is neither private nor global.
    public var isPrivate: Bool {
        IPAddressRanges.isPrivate(unmapped)
    }

    /// Loopback: 127.0.0.0/8 and ::1 (and their IPv4-mapped forms).
    public var isLoopback: Bool {
        switch unmapped {
        case .v4(let value): return value >> 24 == 127
        case .v6(let value): return value == 1
        }
    }
}

/// The special-purpose blocks, as CPython 3.13's `_IPv4Constants` and `_IPv6Constants`.
enum IPAddressRanges {
    static let sharedV4 = block("100.64.0.0/10")

    static let privateV4: [IPNetwork] = [
        "0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.0.170/31", "192.0.2.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
        "255.255.255.255/32",
    ].map(block)

    static let privateV4Exceptions: [IPNetwork] = ["192.0.0.9/32", "192.0.0.10/32"].map(block)

    static let privateV6: [IPNetwork] = [
        "::1/128", "::/128", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
        "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10",
    ].map(block)

    static let privateV6Exceptions: [IPNetwork] = [
        "2001:1::1/128", "2001:1::2/128", "2001:3::/32", "2001:4:112::/48",
        "2001:20::/28", "2001:30::/28",
    ].map(block)

    /// The first octets that some block of ``privateV4`` covers: an IPv4 address starting
    /// with any other octet is not private, which most public traffic learns from one load
    /// (the block list is walked for the rest).
    static let privateV4FirstOctets: [Bool] = (0...255).map { octet in
        privateV4.contains { network in
            guard case .v4(let base) = network.address else { return false }
            let length = min(network.prefixLength, 8)
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (8 - length)
            return UInt32(octet) & mask == base >> 24 & mask
        }
    }

    /// `address` must already be unmapped for the IPv4 rules to apply.
    static func isPrivate(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let value):
            guard privateV4FirstOctets[Int(value >> 24)] else { return false }
            return privateV4.contains { $0.contains(address) }
                && !privateV4Exceptions.contains { $0.contains(address) }
        case .v6:
            return privateV6.contains { $0.contains(address) }
                && !privateV6Exceptions.contains { $0.contains(address) }
        }
    }

    /// The literals above are constants checked by the classification tests;
    /// an unparsable one would be a programming error, so it degrades to a
    /// block that matches nothing rather than trapping.
    private static func block(_ text: String) -> IPNetwork {
        IPNetwork(text) ?? IPNetwork(unchecked: .v6(UInt128.max), prefixLength: 128)
    }
}
