import ArgumentParser
import AuditEvents
import Foundation

/// `vigil-bench decode`: events/s on one core for a realistic mix of EKS, AKS
/// and GKE records (1–3 KB), next to simdjson alone and Foundation's
/// JSONSerialization on the same bytes, and allocations per event.
///
/// Allocations are counted in a child run with a malloc-counting shim
/// preloaded (every malloc, from Swift and C++ alike); the timed runs use
/// plain malloc.
struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "AuditEvents decode throughput (one core) and allocations per event.")

    @Option(help: "Folder of fixture JSON lines (eks/, aks/, gke/ below it).")
    var fixtures: String = "Tests/AuditEventsTests/Fixtures"

    @Option(help: "Seconds per timed run.")
    var seconds: Double = 2

    @Option(help: "Timed runs per variant (the best is reported).")
    var runs: Int = 3

    @Flag(help: "Skip the Foundation JSONSerialization reference.")
    var noFoundation = false

    @Flag(help: """
        Only the decoder and simdjson, per cloud. For profiling: VIGIL_BENCH_CLOUD=eks|aks|gke runs one \
        cloud's decoder alone, and with VIGIL_BENCH_PARSE_ONLY=1 its simdjson parse alone.
        """)
    var perCloud = false

    @Option(help: """
        Copies of the mix in the unique-value mix (each with its own audit IDs, times, object names \
        and source IPs); 0 skips it.
        """)
    var uniqueCopies: Int = 40

    @Option(help: .hidden)
    var allocationPass: String?


    func run() throws {
        let mix = try Self.loadMix(from: fixtures)
        if let allocationPass {
            try self.allocationPass(allocationPass, mix: mix)
            return
        }
        let bytes = mix.reduce(0) { $0 + $1.bytes.count }
        print("decode benchmark: \(mix.count) records (\(Self.describe(mix))), "
            + "average \(bytes / max(mix.count, 1)) bytes, one thread")

        if perCloud {
            let decoder = try AuditRecordDecoder()
            var outcomes: [DecodeOutcome] = []
            let baseline = try ParseOnlyBaseline()
            let only = ProcessInfo.processInfo.environment["VIGIL_BENCH_CLOUD"]
            for cloud in ["eks", "aks", "gke"] where only == nil || only == cloud {
                let part = mix.filter { $0.cloud == cloud }
                let parseOnly = ProcessInfo.processInfo.environment["VIGIL_BENCH_PARSE_ONLY"] != nil
                let rate = parseOnly ? 0 : measure(part) { record in
                    outcomes.removeAll(keepingCapacity: true)
                    decoder.decode(record.bytes, into: &outcomes)
                    return outcomes.count
                }
                let parse = only != nil && !parseOnly ? 0 : measure(part) { _ = baseline.parse($0.bytes); return 1 }
                print("\(cloud): decode \(Int(rate)) events/s, parse only \(Int(parse)) records/s")
            }
            return
        }
        let baseline = try ParseOnlyBaseline()
        let parseOnly = best(of: runs) { measure(mix) { _ = baseline.parse($0.bytes); return 1 } }
        let decoder = try AuditRecordDecoder()
        var outcomes: [DecodeOutcome] = []
        outcomes.reserveCapacity(8)
        let decode = best(of: runs) {
            measure(mix) { record in
                outcomes.removeAll(keepingCapacity: true)
                decoder.decode(record.bytes, into: &outcomes)
                return outcomes.count
            }
        }
        let uncachedDecoder = try AuditRecordDecoder(options: DecoderOptions(stringCacheSlots: 0))
        let uncached = best(of: runs) {
            measure(mix) { record in
                outcomes.removeAll(keepingCapacity: true)
                uncachedDecoder.decode(record.bytes, into: &outcomes)
                return outcomes.count
            }
        }
        // Production chooses the decoder per topic: one configured decoder per cloud.
        let eks = try AuditRecordDecoder(format: .eks)
        let aks = try AuditRecordDecoder(format: .aks)
        let gke = try AuditRecordDecoder(format: .gke)
        let configured = best(of: runs) {
            measure(mix) { record in
                outcomes.removeAll(keepingCapacity: true)
                let topic = record.cloud == "eks" ? eks : record.cloud == "aks" ? aks : gke
                topic.decode(record.bytes, into: &outcomes)
                return outcomes.count
            }
        }
        func line(_ name: String, _ rate: Double) {
            let mbps = rate * Double(bytes) / Double(mix.count) / 1_000_000
            print(name.padding(toLength: 40, withPad: " ", startingAt: 0)
                + String(format: "%10.0f /s  %7.1f MB/s", rate, mbps))
        }
        line("simdjson parse only (records)", parseOnly)
        line("AuditEvents decode, auto-detect (events)", decode)
        line("AuditEvents decode, per-topic format", configured)
        line("AuditEvents decode, auto, no string cache", uncached)
        print(String(format: "decode / simdjson-only: %.0f%% (auto), %.0f%% (per-topic)",
                     decode / parseOnly * 100, configured / parseOnly * 100))
        if !noFoundation {
            let foundation = best(of: 1) {
                measure(mix) { record in
                    (try? JSONSerialization.jsonObject(with: Data(record.bytes))) == nil ? 0 : 1
                }
            }
            line("Foundation JSONSerialization (records)", foundation)
        }
        for cloud in ["all", "eks", "aks", "gke"] {
            print("heap allocations per event (\(cloud)): \(allocationsPerEvent(cloud: cloud) ?? "n/a (needs cc)")")
        }
        if uniqueCopies > 0 { try runUnique(mix) }
    }

    /// The same comparison on a mix whose per-event values do not repeat:
    /// `uniqueCopies` copies of the records, each copy with its own audit
    /// IDs, times, object names and source IPs (so the decoder's string and
    /// part caches miss on them, as in a stream of distinct requests), and
    /// too large to stay in the CPU caches.
    func runUnique(_ mix: [Record]) throws {
        let unique = (1...uniqueCopies).flatMap { copy in
            mix.map { Record(cloud: $0.cloud, bytes: UniqueValues.rewrite($0.bytes, copy: copy)) }
        }
        let bytes = unique.reduce(0) { $0 + $1.bytes.count }
        print("unique-value mix: \(unique.count) records (\(uniqueCopies) copies of the mix, each with its own "
            + "audit IDs, times, object names, source IPs), \(bytes / 1_000_000) MB")
        let baseline = try ParseOnlyBaseline()
        let parseOnly = best(of: runs) { measure(unique) { _ = baseline.parse($0.bytes); return 1 } }
        let decoder = try AuditRecordDecoder()
        var outcomes: [DecodeOutcome] = []
        outcomes.reserveCapacity(8)
        let decode = best(of: runs) {
            measure(unique) { record in
                outcomes.removeAll(keepingCapacity: true)
                decoder.decode(record.bytes, into: &outcomes)
                return outcomes.count
            }
        }
        let eks = try AuditRecordDecoder(format: .eks)
        let aks = try AuditRecordDecoder(format: .aks)
        let gke = try AuditRecordDecoder(format: .gke)
        let configured = best(of: runs) {
            measure(unique) { record in
                outcomes.removeAll(keepingCapacity: true)
                let topic = record.cloud == "eks" ? eks : record.cloud == "aks" ? aks : gke
                topic.decode(record.bytes, into: &outcomes)
                return outcomes.count
            }
        }
        func line(_ name: String, _ rate: Double) {
            print(name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%10.0f /s", rate))
        }
        line("  simdjson parse only (records)", parseOnly)
        line("  AuditEvents decode, auto-detect", decode)
        line("  AuditEvents decode, per-topic format", configured)
        print(String(format: "  decode / simdjson-only: %.0f%% (auto), %.0f%% (per-topic)",
                     decode / parseOnly * 100, configured / parseOnly * 100))
    }

    struct Record {
        var cloud: String
        var bytes: [UInt8]
    }

    /// Fixture lines of 600–3000 bytes, an equal number per cloud.
    static func loadMix(from folder: String) throws -> [Record] {
        var perCloud: [String: [Record]] = [:]
        for cloud in ["eks", "aks", "gke"] {
            let dir = folder + "/" + cloud
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for name in names.sorted() where name.hasSuffix(".jsonl") {
                guard let data = FileManager.default.contents(atPath: dir + "/" + name) else { continue }
                for line in data.split(separator: 10) where (600...3000).contains(line.count) {
                    perCloud[cloud, default: []].append(Record(cloud: cloud, bytes: Array(line)))
                }
            }
        }
        let clouds = ["eks", "aks", "gke"]
        let n = clouds.map { perCloud[$0]?.count ?? 0 }.min() ?? 0
        guard n > 0 else { throw ValidationError("no 600-3000 byte records for every cloud under \(folder)") }
        var mix: [Record] = []
        for i in 0..<n {
            for cloud in clouds { mix.append(contentsOf: perCloud[cloud].map { [$0[i]] } ?? []) }
        }
        return mix
    }

    static func describe(_ mix: [Record]) -> String {
        ["eks", "aks", "gke"].map { cloud in "\(mix.filter { $0.cloud == cloud }.count) \(cloud)" }
            .joined(separator: ", ")
    }

    /// Events (or records) per second of this thread's CPU time (so other
    /// processes on the machine do not count against it), over about
    /// `seconds` of repeated passes.
    func measure(_ mix: [Record], _ body: (Record) -> Int) -> Double {
        for record in mix { _ = body(record) }  // warm up
        var events = 0
        let start = Self.threadCPUNanoseconds()
        var elapsed: UInt64 = 0
        repeat {
            for record in mix { events += body(record) }
            elapsed = Self.threadCPUNanoseconds() - start
        } while Double(elapsed) < seconds * 1e9
        return Double(events) / (Double(elapsed) / 1e9)
    }

    static func threadCPUNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    func best(of runs: Int, _ body: () -> Double) -> Double {
        (0..<max(runs, 1)).map { _ in body() }.max() ?? 0
    }

    // MARK: allocation counting

    /// A malloc-counting shim, compiled with the system C compiler and
    /// preloaded into a child run of this benchmark (`--allocation-pass`).
    static let countingShim = """
        #include <stddef.h>
        extern void *__libc_malloc(size_t);
        extern void *__libc_calloc(size_t, size_t);
        extern void *__libc_realloc(void *, size_t);
        extern void *__libc_memalign(size_t, size_t);
        static unsigned long count;
        unsigned long vigil_malloc_count(void) { return __atomic_load_n(&count, __ATOMIC_RELAXED); }
        #define COUNT() __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED)
        void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
        void *calloc(size_t a, size_t b) { COUNT(); return __libc_calloc(a, b); }
        void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
        void *memalign(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
        void *aligned_alloc(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
        int posix_memalign(void **out, size_t a, size_t n) {
            COUNT(); void *p = __libc_memalign(a, n); if (!p) return 12; *out = p; return 0;
        }
        """

    /// Heap allocations per event (every malloc, Swift and C++ alike) for
    /// `cloud`'s records; nil when no C compiler is available for the shim.
    func allocationsPerEvent(cloud: String) -> String? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let source = dir.appendingPathComponent("count.c")
            let library = dir.appendingPathComponent("count.so")
            try Self.countingShim.write(to: source, atomically: true, encoding: .utf8)
            guard run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O2", "-o", library.path, source.path], env: nil)
                    != nil else { return nil }
            var env = ProcessInfo.processInfo.environment
            env["LD_PRELOAD"] = library.path
            let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            return run(me, ["decode", "--fixtures", fixtures, "--allocation-pass", cloud], env: env)?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            return nil
        }
    }

    private func run(_ path: String, _ arguments: [String], env: [String: String]?) -> String? {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: path)
        child.arguments = arguments
        if let env { child.environment = env }
        let pipe = Pipe()
        child.standardOutput = pipe
        child.standardError = FileHandle.nullDevice
        do { try child.run() } catch { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        return child.terminationStatus == 0 ? String(decoding: output, as: UTF8.self) : nil
    }

    /// The child side: decode `cloud`'s records 10 times after a warm-up and
    /// print allocations per event, read from the preloaded shim.
    func allocationPass(_ cloud: String, mix: [Record]) throws {
        typealias Counter = @convention(c) () -> UInt
        guard let symbol = dlsym(nil, "vigil_malloc_count") else { throw ExitCode(3) }
        let counter = unsafeBitCast(symbol, to: Counter.self)
        let records = cloud == "all" ? mix : mix.filter { $0.cloud == cloud }
        let decoder = try AuditRecordDecoder()
        var outcomes: [DecodeOutcome] = []
        outcomes.reserveCapacity(8)
        for record in records {  // warm up: parser buffers, array capacity
            decoder.decode(record.bytes, into: &outcomes)
            outcomes.removeAll(keepingCapacity: true)
        }
        var events = 0
        let before = counter()
        for _ in 0..<10 {
            for record in records {
                decoder.decode(record.bytes, into: &outcomes)
                events += outcomes.count
                outcomes.removeAll(keepingCapacity: true)
            }
        }
        let allocations = counter() - before
        print(String(format: "%.1f", Double(allocations) / Double(max(events, 1))))
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
