import Foundation

/// The three published shapes of the Tor exit-node list.
public enum TorExitListFormat: String, Sendable, Codable, CaseIterable {
    /// check.torproject.org/torbulkexitlist: one address per line.
    case bulk
    /// check.torproject.org/exit-addresses: `ExitNode` / `Published` /
    /// `LastStatus` / `ExitAddress IP TIME` blocks.
    case exitAddresses = "exit-addresses"
    /// Onionoo `details` JSON: relays with the `Exit` flag.
    case onionoo
}

/// One address seen as a Tor exit at a time (the list's own time where the
/// format has one, else the time it was fetched).
public struct TorExitObservation: Sendable, Hashable {
    public let address: IPAddress
    /// Seconds since 1970, UTC.
    public let seen: Int64

    public init(address: IPAddress, seen: Int64) {
        self.address = address
        self.seen = seen
    }
}

/// Parses exit lists strictly: one line that is not what the format allows
/// makes the whole body unparseable, so a truncated or substituted download
/// (a captive portal's HTML, half a line) never replaces a good list.
public enum TorExitListParser {
    /// The format a body is in, by its first meaningful bytes; nil when none fits.
    public static func detectFormat(_ body: [UInt8]) -> TorExitListFormat? {
        guard let first = body.firstIndex(where: { !isSpace($0) }) else { return nil }
        if body[first] == UInt8(ascii: "{") { return .onionoo }
        let prefix = String(decoding: body[first..<min(body.count, first + 16)], as: UTF8.self)
        if prefix.hasPrefix("ExitNode ") || prefix.hasPrefix("@type tordnsel") { return .exitAddresses }
        if prefix.first?.isHexDigit == true || prefix.hasPrefix(":") || prefix.hasPrefix("#") { return .bulk }
        return nil
    }

    /// Parses `body`, detecting its format unless one is given.
    /// - Parameter fetchedAt: the time given to addresses of the bulk format.
    public static func parse(_ body: [UInt8], format: TorExitListFormat? = nil,
                             fetchedAt: Int64) throws(EnrichmentError) -> (TorExitListFormat, [TorExitObservation]) {
        guard let format = format ?? detectFormat(body) else {
            throw EnrichmentError(.unparseableList, "body is not a bulk list, exit-addresses or Onionoo JSON")
        }
        let observations: [TorExitObservation]
        switch format {
        case .bulk: observations = try parseBulk(body, fetchedAt: fetchedAt)
        case .exitAddresses: observations = try parseExitAddresses(body)
        case .onionoo: observations = try parseOnionoo(body)
        }
        guard !observations.isEmpty else {
            throw EnrichmentError(.emptyList, "the \(format.rawValue) list holds no addresses")
        }
        return (format, observations)
    }

    static func parseBulk(_ body: [UInt8], fetchedAt: Int64) throws(EnrichmentError) -> [TorExitObservation] {
        var result: [TorExitObservation] = []
        var lineNumber = 0
        for line in lines(body) {
            lineNumber += 1
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            guard let address = line.withUnsafeBufferPointer({ IPAddress(utf8: $0) }) else {
                throw EnrichmentError(.unparseableList, "bulk list line \(lineNumber) is not an address")
            }
            result.append(TorExitObservation(address: address.unmapped, seen: fetchedAt))
        }
        return result
    }

    static func parseExitAddresses(_ body: [UInt8]) throws(EnrichmentError) -> [TorExitObservation] {
        var result: [TorExitObservation] = []
        var lineNumber = 0
        for line in lines(body) {
            lineNumber += 1
            if line.isEmpty { continue }
            let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            let keyword = String(decoding: fields[0], as: UTF8.self)
            switch keyword {
            case "ExitNode", "Published", "LastStatus", "@type":
                continue
            case "ExitAddress":
                guard fields.count == 4,
                      let address = Array(fields[1]).withUnsafeBufferPointer({ IPAddress(utf8: $0) }),
                      let seen = utcSeconds(date: fields[2], time: fields[3]) else {
                    throw EnrichmentError(.unparseableList, "exit-addresses line \(lineNumber) is malformed")
                }
                result.append(TorExitObservation(address: address.unmapped, seen: seen))
            default:
                throw EnrichmentError(.unparseableList,
                                      "exit-addresses line \(lineNumber) has unknown keyword '\(keyword.prefix(32))'")
            }
        }
        return result
    }

    private struct OnionooDocument: Decodable {
        struct Relay: Decodable {
            let flags: [String]?
            let exit_addresses: [String]?
            let or_addresses: [String]?
            let last_seen: String?
        }
        let relays: [Relay]
    }

    /// Relays with the `Exit` flag: their `exit_addresses`, or the hosts of
    /// their `or_addresses` when Onionoo omitted the former; seen at `last_seen`.
    static func parseOnionoo(_ body: [UInt8]) throws(EnrichmentError) -> [TorExitObservation] {
        let document: OnionooDocument
        do {
            document = try JSONDecoder().decode(OnionooDocument.self, from: Data(body))
        } catch {
            throw EnrichmentError(.unparseableList, "Onionoo JSON: \(error)")
        }
        var result: [TorExitObservation] = []
        for relay in document.relays where relay.flags?.contains("Exit") == true {
            let parts = relay.last_seen.map { $0.utf8.split(separator: UInt8(ascii: " ")) } ?? []
            guard parts.count == 2, let seen = utcSeconds(date: parts[0], time: parts[1]) else {
                throw EnrichmentError(.unparseableList, "Onionoo relay without a valid last_seen")
            }
            let texts = relay.exit_addresses ?? (relay.or_addresses ?? []).map(orHost)
            for text in texts {
                guard let address = IPAddress(text) else {
                    throw EnrichmentError(.unparseableList, "Onionoo address '\(text.prefix(64))' is not an address")
                }
                result.append(TorExitObservation(address: address.unmapped, seen: seen))
            }
        }
        return result
    }

    /// `1.2.3.4:9001` → `1.2.3.4`; `[2001:db8::1]:9001` → `2001:db8::1`.
    static func orHost(_ text: String) -> String {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        return text.split(separator: ":").first.map(String.init) ?? text
    }

    // MARK: Helpers

    static func lines(_ body: [UInt8]) -> [ArraySlice<UInt8>] {
        body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            var line = line
            while let last = line.last, isSpace(last) { line = line.dropLast() }
            while let first = line.first, isSpace(first) { line = line.dropFirst() }
            return line
        }
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\n")
    }

    /// `YYYY-MM-DD` and `HH:MM:SS` (UTC) to seconds since 1970.
    static func utcSeconds<S: Collection<UInt8>>(date: S, time: S) -> Int64? {
        func numbers(_ bytes: S, separator: UInt8, count: Int) -> [Int64]? {
            let parts = bytes.split(separator: separator, omittingEmptySubsequences: false)
            guard parts.count == count else { return nil }
            var values: [Int64] = []
            for part in parts {
                guard !part.isEmpty, part.count <= 4, part.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
                values.append(part.reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) })
            }
            return values
        }
        guard let ymd = numbers(date, separator: UInt8(ascii: "-"), count: 3),
              let hms = numbers(time, separator: UInt8(ascii: ":"), count: 3),
              (1970...9999).contains(ymd[0]), (1...12).contains(ymd[1]), (1...31).contains(ymd[2]),
              (0...23).contains(hms[0]), (0...59).contains(hms[1]), (0...60).contains(hms[2]) else { return nil }
        return daysFromCivil(year: ymd[0], month: ymd[1], day: ymd[2]) * 86_400
            + hms[0] * 3600 + hms[1] * 60 + hms[2]
    }

    /// Howard Hinnant's days-from-civil (proleptic Gregorian).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
