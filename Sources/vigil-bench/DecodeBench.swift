import ArgumentParser
import AuditEvents
import Foundation

/// `vigil-bench decode`: events/s on one core for three mixes of records, each
/// next to simdjson alone on the same bytes, with allocations per event: the
/// bench mix (real EKS, AKS and GKE fixture lines of 0.6–3 KB, repeated; with
/// Foundation's JSONSerialization too), the unique-value mix (copies of it
/// whose per-request values differ) and the loadgen mix (`vigil loadgen`'s
/// generated traffic, see ``LoadgenMix``).
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

    @Option(help: "Timed rounds, each running simdjson, auto and per-topic in turn (the best of each is reported, and the median of the rounds' own ratios).")
    var runs: Int = 3

    @Flag(help: "Skip the Foundation JSONSerialization reference.")
    var noFoundation = false

    @Flag(help: """
        Only the decoder and simdjson, per cloud of each mix (one cloud alone for a profiler: \
        --profile MIX:CLOUD).
        """)
    var perCloud = false

    @Option(help: """
        Copies of the mix in the unique-value mix (each with its own audit IDs, times, object names \
        and source IPs); 0 skips it.
        """)
    var uniqueCopies: Int = 40

    @Option(help: """
        Records in the loadgen mix: the background traffic of `vigil loadgen`'s generator (EKS, AKS, \
        GKE and process events in its default proportions, fixed seed); 0 skips it.
        """)
    var loadgenRecords: Int = 3000

    @Option(help: """
        For profiling (perf, callgrind): only decode MIX (bench, unique, loadgen; MIX:CLOUD for one cloud's \
        records of it, e.g. loadgen:process) with the auto-detect decoder for --passes passes (with \
        VIGIL_BENCH_PARSE_ONLY=1 only parse it), and print the count and the rate.
        """)
    var profile: String?

    @Option(help: "Passes over the mix with --profile.")
    var passes: Int = 20

    @Option(help: """
        Records per run of one cloud in the loadgen mix's fetch-order variant (a partition's \
        records in one fetch: ~300 at 100k events/s over 16 raw partitions in 50 ms bursts); 0 skips it.
        """)
    var fetchRun: Int = 100

    @Option(help: .hidden)
    var allocationPass: String?

    @Option(help: """
        Write every decoded field of the fixtures, ../shared/data, Event Hubs batches, 20,000 mutations \
        and the unique-value and loadgen mixes, through ten decoder configurations cold and warm, to FILE \
        (compare md5sums before and after a decoder change); no timing.
        """)
    var dump: String?

    func run() throws {
        let mix = try Self.loadMix(from: fixtures)
        if let allocationPass {
            try self.allocationPass(allocationPass, bench: mix)
            return
        }
        if let dump {
            try DecodeDump.run(to: dump, fixtures: fixtures, bench: mix, unique: try records(of: "unique", bench: mix),
                               loadgen: try records(of: "loadgen", bench: mix))
            return
        }
        if let profile {
            // MIX, or MIX:CLOUD (e.g. loadgen:process).
            let named = profile.split(separator: ":", maxSplits: 1).map(String.init)
            let records = try records(of: named[0], bench: mix)
            try self.profile(named.count == 2 ? records.filter { $0.cloud == named[1] } : records)
            return
        }
        let bytes = mix.reduce(0) { $0 + $1.bytes.count }
        print("decode benchmark: \(mix.count) records (\(Self.describe(mix))), "
            + "average \(bytes / max(mix.count, 1)) bytes, one thread")

        if perCloud {
            try self.perCloud(mix)
            return
        }
        let rates = try compare(mix)
        var outcomes: [DecodeOutcome] = []
        let uncachedDecoder = try AuditRecordDecoder(options: DecoderOptions(stringCacheSlots: 0))
        let uncached = best(of: runs) {
            measure(mix) { record in
                outcomes.removeAll(keepingCapacity: true)
                uncachedDecoder.decode(record.bytes, into: &outcomes)
                return outcomes.count
            }
        }
        func line(_ name: String, _ rate: Double) {
            let mbps = rate * Double(bytes) / Double(mix.count) / 1_000_000
            print(name.padding(toLength: 40, withPad: " ", startingAt: 0)
                + String(format: "%10.0f /s  %7.1f MB/s", rate, mbps))
        }
        line("simdjson parse only (records)", rates.parseOnly)
        line("AuditEvents decode, auto-detect (events)", rates.auto)
        line("AuditEvents decode, per-topic format", rates.perTopic)
        line("AuditEvents decode, auto, no string cache", uncached)
        print(rates.summary)
        if !noFoundation {
            let foundation = best(of: 1) {
                measure(mix) { record in
                    (try? JSONSerialization.jsonObject(with: Data(record.bytes))) == nil ? 0 : 1
                }
            }
            line("Foundation JSONSerialization (records)", foundation)
        }
        for cloud in ["all", "eks", "aks", "gke"] {
            print("heap allocations per event (\(cloud)): \(allocationsPerEvent("bench:" + cloud) ?? "n/a (needs cc)")")
        }
        for name in ["unique", "loadgen", "loadgen-fetch"] {
            let records = try records(of: name, bench: mix)
            if records.isEmpty { continue }
            let size = records.reduce(0) { $0 + $1.bytes.count }
            switch name {
            case "unique":
                print("unique-value mix: \(records.count) records (\(uniqueCopies) copies of the mix, each with its own "
                    + "audit IDs, times, object names, source IPs), \(size / 1_000_000) MB")
            case "loadgen":
                print("loadgen mix: \(records.count) records of vigil loadgen's generator (\(Self.describe(records))), "
                    + "average \(size / records.count) bytes, \(size / 1_000_000) MB")
            default:
                print("loadgen mix in fetch order: the same records in runs of \(fetchRun) of one cloud, as a consumer's "
                    + "fetch hands a topic's records over")
            }
            let r = try compare(records)
            func row(_ name: String, _ rate: Double) {
                print(name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%10.0f /s", rate))
            }
            row("  simdjson parse only (records)", r.parseOnly)
            row("  AuditEvents decode, auto-detect", r.auto)
            row("  AuditEvents decode, per-topic format", r.perTopic)
            print("  " + r.summary)
            print("  heap allocations per event: \(allocationsPerEvent(name + ":all") ?? "n/a (needs cc)")")
        }
    }

    /// `--per-cloud`: each mix's records of one cloud at a time, simdjson and the decoders
    /// interleaved as in ``compare(_:)``.
    func perCloud(_ mix: [Record]) throws {
        for name in ["bench", "unique", "loadgen"] {
            let records = try records(of: name, bench: mix)
            for cloud in ["eks", "aks", "gke", "process"] {
                let part = records.filter { $0.cloud == cloud }
                if part.isEmpty { continue }
                let r = try compare(part)
                print("\(name) \(cloud) (\(part.count) records): "
                    + String(format: "simdjson %.0f /s, decode %.0f /s (auto), %.0f /s (per-topic): %.0f%%, %.0f%%",
                             r.parseOnly, r.auto, r.perTopic, r.auto / r.parseOnly * 100, r.perTopic / r.parseOnly * 100))
            }
        }
    }

    /// simdjson alone, the auto-detect decoder and per-topic decoders on the same records, in
    /// turn within each run (simdjson, auto, per-topic; `runs` times), the best of each
    /// reported: the ratio then compares windows of the same minute. Measured one variant's
    /// runs after the other's, this VM's drift between them moved the ratio by ±8 points
    /// (session 14: 31-47 % for the same binary).
    func compare(_ records: [Record]) throws -> Comparison {
        let baseline = try ParseOnlyBaseline()
        let decoder = try AuditRecordDecoder()
        var outcomes: [DecodeOutcome] = []
        outcomes.reserveCapacity(8)
        // Production chooses the decoder per topic: one configured decoder per source, found
        // again only when the topic changes (not a String-keyed lookup per record, which cost
        // the per-topic rows ~5 % here).
        var decoders: [String: AuditRecordDecoder] = [:]
        for (cloud, format) in [("eks", SourceFormat.eks), ("aks", .aks), ("gke", .gke), ("process", .process)] {
            decoders[cloud] = try AuditRecordDecoder(format: format)
        }
        let routed = records.map { (record: $0, decoder: decoders[$0.cloud]) }
        var c = Comparison()
        for _ in 0..<max(runs, 1) {
            let parseOnly = measure(records) { _ = baseline.parse($0.bytes); return 1 }
            let auto = measure(records) { record in
                outcomes.removeAll(keepingCapacity: true)
                decoder.decode(record.bytes, into: &outcomes)
                return outcomes.count
            }
            let perTopic = measure(routed) { item in
                outcomes.removeAll(keepingCapacity: true)
                item.decoder?.decode(item.record.bytes, into: &outcomes)
                return outcomes.count
            }
            c.parseOnly = max(c.parseOnly, parseOnly)
            c.auto = max(c.auto, auto)
            c.perTopic = max(c.perTopic, perTopic)
            c.roundRatios.append(auto / parseOnly)
        }
        return c
    }

    /// Each variant's best rate, and per round the auto-detect decoder's rate over simdjson's
    /// measured just before it: the best rates can come from different windows of this VM's
    /// speed, a round's two from the same second.
    struct Comparison {
        var parseOnly = 0.0, auto = 0.0, perTopic = 0.0
        var roundRatios: [Double] = []

        /// "decode / simdjson-only: A% (auto), P% (per-topic); per round (auto): median M% (L-H%, N rounds)"
        var summary: String {
            let sorted = roundRatios.sorted()
            let median = sorted.isEmpty ? 0
                : (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
            return String(format: "decode / simdjson-only: %.0f%% (auto), %.0f%% (per-topic); ", auto / parseOnly * 100,
                          perTopic / parseOnly * 100)
                + String(format: "per round (auto): median %.0f%% (%.0f-%.0f%%, %d rounds)", median * 100,
                         (sorted.first ?? 0) * 100, (sorted.last ?? 0) * 100, sorted.count)
        }
    }

    /// The records of a mix by name: `bench` (the fixture lines), `unique`, `loadgen`.
    func records(of name: String, bench: [Record]) throws -> [Record] {
        switch name {
        case "bench": return bench
        case "unique": return UniqueValues.mix(bench, copies: uniqueCopies)
        case "loadgen": return LoadgenMix.records(loadgenRecords)
        case "loadgen-fetch": return fetchRun > 0 ? LoadgenMix.fetchOrder(LoadgenMix.records(loadgenRecords), run: fetchRun) : []
        default: throw ValidationError("unknown mix \(name): use bench, unique, loadgen or loadgen-fetch")
        }
    }

    /// `--profile`: one decoder (or the parse alone) over `records`, `passes` times.
    func profile(_ records: [Record]) throws {
        let parseOnly = ProcessInfo.processInfo.environment["VIGIL_BENCH_PARSE_ONLY"] != nil
        let baseline = try ParseOnlyBaseline()
        let decoder = try AuditRecordDecoder()
        var outcomes: [DecodeOutcome] = []
        outcomes.reserveCapacity(8)
        var count = 0
        let start = Self.threadCPUNanoseconds()
        for _ in 0..<max(passes, 1) {
            for record in records {
                if parseOnly {
                    count += baseline.parse(record.bytes) ? 1 : 0
                } else {
                    outcomes.removeAll(keepingCapacity: true)
                    decoder.decode(record.bytes, into: &outcomes)
                    count += outcomes.count
                }
            }
        }
        let seconds = Double(Self.threadCPUNanoseconds() - start) / 1e9
        print("\(parseOnly ? "parsed" : "decoded") \(count) in \(String(format: "%.3f", seconds)) s CPU: "
            + String(format: "%.0f /s", Double(count) / max(seconds, 1e-9)))
    }

    struct Record {
        var cloud: String
        /// With the decoder's padding past them, as KafkaIO's consumer hands
        /// records over: every variant (simdjson alone too) parses in place.
        var bytes: [UInt8]

        init(cloud: String, bytes: some Collection<UInt8>) {
            self.cloud = cloud
            self.bytes = AuditRecordDecoder.padded(bytes)
        }
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
        ["eks", "aks", "gke", "process"].compactMap { cloud in
            let n = mix.filter { $0.cloud == cloud }.count
            return n == 0 ? nil : "\(n) \(cloud)"
        }.joined(separator: ", ")
    }

    /// Events (or records) per second of this thread's CPU time (so other
    /// processes on the machine do not count against it), over about
    /// `seconds` of repeated passes.
    func measure<Item>(_ mix: [Item], _ body: (Item) -> Int) -> Double {
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

    /// Heap allocations per event (every malloc, Swift and C++ alike) for a
    /// mix's records (`mix:cloud`, e.g. `bench:eks`, `loadgen:all`); nil when no
    /// C compiler is available for the shim.
    func allocationsPerEvent(_ which: String) -> String? {
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
            let arguments = ["decode", "--fixtures", fixtures, "--unique-copies", String(uniqueCopies),
                             "--loadgen-records", String(loadgenRecords), "--allocation-pass", which]
            return run(me, arguments, env: env)?
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

    /// The child side: decode the records of `which` (`mix:cloud`) 10 times
    /// after a warm-up and print allocations per event, read from the
    /// preloaded shim.
    func allocationPass(_ which: String, bench: [Record]) throws {
        typealias Counter = @convention(c) () -> UInt
        guard let symbol = dlsym(nil, "vigil_malloc_count") else { throw ExitCode(3) }
        let counter = unsafeBitCast(symbol, to: Counter.self)
        let parts = which.split(separator: ":").map(String.init)
        let mix = try records(of: parts[0], bench: bench)
        let cloud = parts.count > 1 ? parts[1] : "all"
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
