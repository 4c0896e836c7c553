import AuditEvents

/// Compact JSON written straight into bytes: the generator's records are built field by
/// field, in the order real shippers write them, without Foundation.
struct JSONBytes {
    var bytes: [UInt8] = []

    init(capacity: Int = 2048) { bytes.reserveCapacity(capacity) }

    /// Appends text as it is (punctuation, keys the caller knows need no escaping).
    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Appends `"text"`, escaped.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { Self.appendEscaped($0, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends JSON text (another document) as a JSON string: how CloudWatch carries an
    /// audit event in `message` and Azure in `properties.log`.
    mutating func embedded(_ document: [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        document.withUnsafeBufferPointer { Self.appendEscaped($0, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func int(_ value: Int) { bytes.append(contentsOf: String(value).utf8) }

    /// `"key":"value"` (with a leading comma unless `first`).
    mutating func field(_ key: String, _ value: String, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
        string(value)
    }

    /// `"key":[ "a","b" ]`.
    mutating func field(_ key: String, strings: [String], first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        string(key)
        raw(":[")
        for (i, s) in strings.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(s)
        }
        raw("]")
    }

    /// `,"key":` ready for a value.
    mutating func key(_ key: String, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends `source` with JSON string escapes; runs that need none are copied whole.
    static func appendEscaped(_ source: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var run = 0
        for i in 0..<source.count {
            let byte = source[i]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { continue }
            if i > run { out.append(contentsOf: UnsafeBufferPointer(rebasing: source[run..<i])) }
            run = i + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            default:
                let hex: StaticString = "0123456789abcdef"
                out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 15)]])
            }
        }
        if run < source.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: source[run...])) }
    }
}

/// RFC 3339 UTC timestamps of microsecond times, as Kubernetes and Cloud Logging write them.
enum Timestamp {
    /// `2026-11-22T09:04:20.123456Z`; `digits` fraction digits (0, 3, 6 or 7 as Azure writes).
    static func rfc3339(micros: Int64, digits: Int = 6) -> String {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = Int(micros - seconds * 1_000_000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = EventTime.civil(fromDays: Int(days))
        var out: [UInt8] = []
        out.reserveCapacity(32)
        func put(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = value
            for _ in 0..<width {
                out.append(UInt8(48 + (v / divisor) % 10))
                v %= divisor
                divisor /= 10
                if divisor == 0 { break }
            }
        }
        put(y, 4); out.append(45); put(m, 2); out.append(45); put(d, 2); out.append(84)
        put(secondOfDay / 3600, 2); out.append(58); put(secondOfDay / 60 % 60, 2); out.append(58); put(secondOfDay % 60, 2)
        switch digits {
        case 0: break
        case 3: out.append(46); put(fraction / 1000, 3)
        case 7: out.append(46); put(fraction, 6); out.append(48)
        default: out.append(46); put(fraction, 6)
        }
        out.append(90)
        return String(decoding: out, as: UTF8.self)
    }
}
