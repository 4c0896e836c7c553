import LoadGen

/// The loadgen mix: what `vigil loadgen` sends by default (its generator's background traffic
/// of EKS, AKS, GKE and container process events, one event per record, in its default
/// proportions), from a fixed seed and start so every run decodes the same bytes. Per-request
/// values (audit IDs, times, source IPs from the generator's pools, process ids) vary as in a
/// real stream; users, objects and agents come from the generator's catalog.
enum LoadgenMix {
    /// 2026-11-22T00:00:00Z.
    static let start: Int64 = 1_795_305_600_000_000

    static func records(_ count: Int) -> [DecodeBench.Record] {
        guard count > 0 else { return [] }
        var c = TrafficConfiguration()
        c.seed = 1
        c.count = count
        c.startMicros = start
        return TrafficGenerator(c).map { DecodeBench.Record(cloud: $0.cloud.rawValue, bytes: $0.value) }
    }

    /// The same records in the order a consumer hands them over: a fetch returns each
    /// partition's records as a run, so ingest decodes runs of one topic (one cloud), not
    /// clouds interleaved record by record. Runs of `run` records, the clouds in turn, each
    /// cloud's records in the generator's order.
    static func fetchOrder(_ records: [DecodeBench.Record], run: Int) -> [DecodeBench.Record] {
        var queues: [String: ArraySlice<DecodeBench.Record>] = [:]
        var clouds: [String] = []
        for r in records {
            if queues[r.cloud] == nil { clouds.append(r.cloud) }
            queues[r.cloud, default: []].append(r)
        }
        var out: [DecodeBench.Record] = []
        out.reserveCapacity(records.count)
        while out.count < records.count {
            for cloud in clouds {
                let taken = queues[cloud]!.prefix(max(run, 1))
                out += taken
                queues[cloud]!.removeFirst(taken.count)
            }
        }
        return out
    }
}

/// Rewrites the values that differ from one request to the next (audit IDs,
/// times, object names, source IPs) in a record's bytes, for copy `copy` of
/// the mix: same keys and shape, same lengths, valid values. Finds the
/// members by their keys as written, plain or escaped inside a string (AKS
/// `properties.log`).
enum UniqueValues {
    static let ids = ["auditID", "insertId", "id"]
    static let times = ["requestReceivedTimestamp", "stageTimestamp", "timestamp", "receiveTimestamp", "time",
                        "p_event_time"]
    static let names = ["name", "resourceName", "requestURI"]
    static let ips = ["sourceIPs", "callerIp", "callerIP"]

    /// `copies` copies of `mix`, copy `n` rewritten with ``rewrite(_:copy:)``.
    static func mix(_ mix: [DecodeBench.Record], copies: Int) -> [DecodeBench.Record] {
        guard copies > 0 else { return [] }
        return (1...copies).flatMap { copy in
            mix.map { DecodeBench.Record(cloud: $0.cloud, bytes: rewrite($0.bytes, copy: copy)) }
        }
    }

    static func rewrite(_ input: [UInt8], copy: Int) -> [UInt8] {
        var b = input
        for (keys, kind) in [(ids, 0), (times, 1), (names, 2), (ips, 3)] {
            for key in keys {
                for quote in [Array("\"".utf8), Array("\\\"".utf8)] {
                    let pattern = quote + Array(key.utf8) + quote + Array(":".utf8)
                    var i = 0
                    while let at = find(pattern, in: b, from: i) {
                        i = at + pattern.count
                        rewriteValue(&b, at: i, kind: kind, copy: copy)
                    }
                }
            }
        }
        return b
    }

    static func find(_ pattern: [UInt8], in b: [UInt8], from start: Int) -> Int? {
        guard pattern.count <= b.count, start <= b.count - pattern.count else { return nil }
        for i in start...(b.count - pattern.count) where b[i] == pattern[0] && Array(b[i..<i + pattern.count]) == pattern {
            return i
        }
        return nil
    }

    /// The string value(s) starting at `i` (after the key's colon): a string,
    /// or an array of strings (source IPs).
    static func rewriteValue(_ b: inout [UInt8], at i: Int, kind: Int, copy: Int) {
        var j = i
        let end = min(b.count, i + 4096)
        var inArray = false
        while j < end {
            let c = b[j]
            if c == UInt8(ascii: "[") && !inArray { inArray = true; j += 1; continue }
            if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") || c == UInt8(ascii: "{") { return }
            if c == UInt8(ascii: ",") && !inArray { return }
            if isValueByte(c) {
                guard j > 0, b[j - 1] == UInt8(ascii: "\"") else { return }  // strings only
                var k = j
                while k < end && isValueByte(b[k]) { k += 1 }
                rewrite(&b, j..<k, kind: kind, copy: copy)
                if !inArray { return }
                j = k
                continue
            }
            j += 1
        }
    }

    static func isValueByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 58
            || c == 95 || c == 47 || c == 32 || c == 64
    }

    static func rewrite(_ b: inout [UInt8], _ r: Range<Int>, kind: Int, copy: Int) {
        let digits = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        func isAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) }
        switch kind {
        case 1:  // YYYY-MM-DDTHH:MM:SS...: minutes and seconds from the copy number
            guard r.count >= 19, b[r.lowerBound + 13] == 58, b[r.lowerBound + 16] == 58 else { return }
            let m = (copy / 60) % 60, s = copy % 60
            b[r.lowerBound + 14] = UInt8(48 + m / 10); b[r.lowerBound + 15] = UInt8(48 + m % 10)
            b[r.lowerBound + 17] = UInt8(48 + s / 10); b[r.lowerBound + 18] = UInt8(48 + s % 10)
        case 3:  // IPv4: the last octet from the copy number, as many digits as before
            let text = b[r]
            guard text.filter({ $0 == 46 }).count == 3, let dot = text.lastIndex(of: 46) else {
                // IPv6 or a name: the last hex digits
                var n = copy
                for k in r.reversed() where n > 0 && b[k] >= 48 && b[k] <= 57 { b[k] = UInt8(48 + n % 10); n /= 10 }
                return
            }
            let width = r.upperBound - dot - 1
            let value = width == 1 ? copy % 10 : width == 2 ? 10 + copy % 90 : 100 + copy % 156
            var v = value
            for k in (dot + 1..<r.upperBound).reversed() { b[k] = UInt8(48 + v % 10); v /= 10 }
        default:  // IDs and names: the last alphanumeric characters spell the copy number
            var n = copy
            for k in r.reversed() where n > 0 && isAlnum(b[k]) {
                b[k] = digits[n % 36]
                n /= 36
            }
        }
    }
}
