#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` with warnings that are dropped: for reads known not to warn.
@inline(__always)
func quiet<T>(_ body: (inout DecodeWarnings) -> T) -> T {
    var none = DecodeWarnings()
    return body(&none)
}

/// Lenient field reads: a value of the wrong type is ignored (or coerced when
/// unambiguous) and noted in the event's warnings, never thrown.
enum FieldReader {
    /// The node when it is an object; a non-null non-object is flagged.
    static func object(_ node: JSONNode?, _ warnings: inout DecodeWarnings) -> JSONNode? {
        guard let node else { return nil }
        switch node.kind {
        case .object: return node
        case .null: return nil
        default:
            warnings.insert(.wrongType)
            return nil
        }
    }

    /// A string; through `cache` when given (for values that repeat across
    /// events; IDs are read with ``inlineText(_:_:)``).
    @inline(__always)
    static func string(_ node: JSONNode?, _ warnings: inout DecodeWarnings, _ cache: StringTables? = nil) -> String? {
        guard let node else { return nil }
        if let bytes = node.stringBytes { return string(bytes, cache) }
        return nonString(node, &warnings)
    }

    /// A string member's bytes as a string.
    @inline(__always)
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ cache: StringTables?) -> String {
        guard let cache else { return String(decoding: bytes, as: UTF8.self) }
        return cache.string(bytes)
    }

    /// A string kept inline (an ID: distinct per event, not worth caching);
    /// other types as ``string(_:_:_:)`` reads them.
    @inline(__always)
    static func inlineText(_ node: JSONNode?, _ warnings: inout DecodeWarnings) -> InlineText? {
        guard let node else { return nil }
        if let bytes = node.stringBytes { return InlineText(validUTF8: bytes) }
        return nonString(node, &warnings).map(InlineText.init)
    }

    /// A value that is not a JSON string, where a string was expected.
    @inline(never)
    private static func nonString(_ node: JSONNode, _ warnings: inout DecodeWarnings) -> String? {
        switch node.kind {
        case .string: return node.string
        case .null: return nil
        case .int64, .uint64, .double, .bool:
            warnings.insert(.coercedType)
            return JSONValue(node).jsonText
        default:
            warnings.insert(.wrongType)
            return nil
        }
    }

    static func int(_ node: JSONNode?, _ warnings: inout DecodeWarnings) -> Int? {
        guard let node else { return nil }
        switch node.kind {
        case .int64: return node.int64.map { Int(truncatingIfNeeded: $0) }
        case .null: return nil
        case .uint64, .double:
            if let d = node.double, d.rounded() == d, abs(d) < 1e15 {
                warnings.insert(.coercedType)
                return Int(d)
            }
        case .string:
            if let bytes = node.stringBytes, let i = parseInt(bytes) {
                warnings.insert(.coercedType)
                return i
            }
        default: break
        }
        warnings.insert(.wrongType)
        return nil
    }

    static func bool(_ node: JSONNode?, _ warnings: inout DecodeWarnings) -> Bool? {
        guard let node else { return nil }
        switch node.kind {
        case .bool: return node.bool
        case .null: return nil
        case .string:
            if node.stringEquals("true") { warnings.insert(.coercedType); return true }
            if node.stringEquals("false") { warnings.insert(.coercedType); return false }
        default: break
        }
        warnings.insert(.wrongType)
        return nil
    }

    /// An array of strings; a lone string becomes a one-element list. `wholeLists`: look the
    /// list up whole in `cache` first (lists that repeat, such as groups); its elements go
    /// through `cache` either way.
    static func strings(
        _ node: JSONNode?, _ warnings: inout DecodeWarnings, _ cache: StringTables? = nil, wholeLists: Bool = true
    ) -> [String] {
        guard let node else { return [] }
        switch node.kind {
        case .array:
            if wholeLists, let cache, let cached = cachedList(node, cache) { return cached }
            var out: [String] = []
            out.reserveCapacity(4)
            node.forEachElement { element in
                if let bytes = element.stringBytes {
                    out.append(cache?.string(bytes) ?? String(decoding: bytes, as: UTF8.self))
                } else {
                    warnings.insert(.wrongType)
                }
            }
            return out
        case .string:
            warnings.insert(.coercedType)
            return node.string.map { [$0] } ?? []
        case .null:
            return []
        default:
            warnings.insert(.wrongType)
            return []
        }
    }

    /// An array of up to 16 strings through the cache's list slots; nil when
    /// it is longer, holds a non-string (the caller then reads it element by
    /// element and notes the warning) or the cache is off.
    private static func cachedList(_ node: JSONNode, _ cache: StringTables) -> [String]? {
        withUnsafeTemporaryAllocation(of: UnsafeBufferPointer<UInt8>.self, capacity: 16) { parts -> [String]? in
            var count = 0
            var usable = true
            node.forEachElement { element in
                guard usable, count < 16, let bytes = element.stringBytes else { usable = false; return }
                parts[count] = bytes
                count += 1
            }
            guard usable else { return nil }
            return cache.list(UnsafeBufferPointer(rebasing: parts[0..<count]))
        }
    }

    /// A timestamp string (RFC 3339 or Panther's form) or epoch milliseconds.
    static func time(_ node: JSONNode?, _ warnings: inout DecodeWarnings) -> EventTime? {
        guard let node else { return nil }
        if let bytes = node.stringBytes { return time(bytes, &warnings) }
        if let ms = node.int64 { return EventTime(milliseconds: ms) }
        if !node.isNull { warnings.insert(.invalidTime) }
        return nil
    }

    /// A time member's string bytes as a time (nil and a warning when unreadable, nil when empty).
    static func time(_ bytes: UnsafeBufferPointer<UInt8>, _ warnings: inout DecodeWarnings) -> EventTime? {
        if bytes.isEmpty { return nil }
        if let t = EventTime.parse(bytes) { return t }
        warnings.insert(.invalidTime)
        return nil
    }

    static func parseInt(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 15 else { return nil }
        var value = 0
        var negative = false
        for (i, c) in bytes.enumerated() {
            if i == 0 && c == 45 { negative = true; continue }
            guard c >= 48, c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
        }
        if negative && bytes.count == 1 { return nil }
        return negative ? -value : value
    }

    /// True for an IPv4 or IPv6 address (an IPv6 zone suffix is allowed).
    static func isIPAddress(_ text: String) -> Bool {
        var text = text
        return text.withUTF8(isIPAddress)
    }

    /// The same on UTF-8 bytes, NUL-terminated in a stack buffer for `inet_pton`
    /// (a plain dotted quad is decided without it).
    static func isIPAddress(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !utf8.isEmpty, utf8.count <= 64, let source = utf8.baseAddress else { return false }
        let end = utf8.firstIndex(of: 37) ?? utf8.count  // '%': drop the IPv6 zone
        if isDottedQuad(UnsafeBufferPointer(start: source, count: end)) { return true }
        var buffer = (UInt64(0), UInt64(0))
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 65) { c in
            guard let base = c.baseAddress else { return false }
            UnsafeMutableRawPointer(base).copyMemory(from: source, byteCount: end)
            base[end] = 0
            return withUnsafeMutableBytes(of: &buffer) { out in
                inet_pton(AF_INET, base, out.baseAddress) == 1 || inet_pton(AF_INET6, base, out.baseAddress) == 1
            }
        }
    }

    /// True for four decimal octets of at most 255 without leading zeros,
    /// separated by dots and nothing else: only what `inet_pton(AF_INET)`
    /// accepts too, so a true answer needs no call (a false one still makes it).
    static func isDottedQuad(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 7, b.count <= 15 else { return false }
        var octets = 0
        var value = 0
        var digits = 0
        for c in b {
            if c >= 48 && c <= 57 {
                if digits > 0 && value == 0 { return false }  // a leading zero
                value = value * 10 + Int(c &- 48)
                guard value <= 255 else { return false }
                if digits == 0 { octets += 1 }
                digits += 1
            } else if c == 46 && digits > 0 && octets < 4 {  // '.'
                value = 0
                digits = 0
            } else {
                return false
            }
        }
        return octets == 4 && digits > 0
    }

    /// The warnings a list of source IPs gives (none, or missing, or
    /// invalid). Decided once per distinct list: the decoder's list cache
    /// keeps a list with its warnings (``SourceIPList``).
    static func sourceIPWarnings(_ ips: [String], _ warnings: inout DecodeWarnings) {
        if ips.isEmpty {
            warnings.insert(.missingSourceIP)
        } else if !ips.allSatisfy(isIPAddress) {
            warnings.insert(.invalidSourceIP)
        }
    }

    /// A source-IP list the decoder's list cache does not hold, and its warnings. Its strings
    /// come from `strings` one by one (an address repeats in other lists), not as a whole list
    /// from its list slots: a list missing from the list cache is new, and storing it in a
    /// second cache (and its validity in a third) cost a write and the release of an older
    /// list in each.
    static func sourceIPList(_ node: JSONNode?, _ w: inout DecodeWarnings, _ strings: StringTables) -> SourceIPList {
        let list = FieldReader.strings(node, &w, strings, wholeLists: false)
        var warnings = DecodeWarnings()
        sourceIPWarnings(list, &warnings)
        return SourceIPList(ips: list, warnings: warnings)
    }
}
