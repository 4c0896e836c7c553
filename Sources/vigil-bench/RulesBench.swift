import ArgumentParser
import AuditEvents
import Detection
import Enrichment
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `vigil-bench rules`: the five seed rules (or any rule directory) evaluated on
/// decoded, enriched events — events/s on one core (thread CPU time) — and the
/// heap bytes of rule state per tracked group key (glibc `mallinfo2`).
struct RulesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Detection engine throughput (one core) and rule state bytes per group key.")

    @Option(help: "Folder of fixture JSON lines (eks/, aks/, gke/ below it).")
    var fixtures: String = "Tests/AuditEventsTests/Fixtures"

    @Option(help: "Rule directory.")
    var rules: String = "topology/rules"

    @Option(help: "Events in the workload (times 1 ms apart, one pass).")
    var events: Int = 200_000

    @Option(help: "Distinct public source IPs in the workload.")
    var ips: Int = 20_000

    @Option(help: "Share of events made 403 denials (the rest keep their code).")
    var denied: Double = 0.3

    @Option(help: "Seconds of CPU per timed run.")
    var seconds: Double = 2

    @Option(help: "Timed runs (the best is reported).")
    var runs: Int = 3

    @Option(help: "Group keys for the memory measurement.")
    var keys: Int = 100_000

    @Option(help: "Parts to run (to profile one): five, conditions, memory (all by default).")
    var only: [String] = ["five", "conditions", "memory"]

    @Option(help: ArgumentHelp("How events reach the engine (both by default): hot, made just before they are "
        + "evaluated, in batches of --batch (the runtime evaluates an event right after decoding it); cold, all "
        + "--events made up front, each read from memory (the method before session 10)."))
    var method: [Method] = [.hot, .cold]

    @Option(help: "Events per batch of the hot method (made, untimed, then evaluated).")
    var batch: Int = 1_000

    enum Method: String, ExpressibleByArgument, CaseIterable { case hot, cold }

    func run() throws {
        let loaded = try RuleLoader.load(directory: rules)
        let base = try decodeFixtures()
        print("rules benchmark: \(loaded.count) rules from \(rules), \(base.count) distinct decoded events "
            + "(\(Set(base.map(\.logType)).map(\.rawValue).sorted().joined(separator: ", "))), one thread")
        let workload = Workload(base: base, events: events, ips: ips, denied: denied)
        for method in Method.allCases where self.method.contains(method) {
            var events = method == .cold ? EventSource.cold(workload) : .hot(workload, batch: max(batch, 1))
            print(method == .cold
                ? "cold events: the \(workload.draws.count) events made up front, each its own value "
                    + "(read from memory, as the runs before session 10 measured)"
                : "hot events: batches of \(max(batch, 1)) made just before they are evaluated (untimed; the "
                    + "runtime evaluates an event right after decoding it), the same \(workload.draws.count) events")
            if only.contains("five") { measureFive(loaded, &events) }
            if only.contains("conditions") { measureConditions(loaded, &events) }
        }
        if only.contains("memory") { try measureMemory(loaded, base) }
    }

    /// The five rules through one engine, best of `runs`.
    func measureFive(_ loaded: [Rule], _ events: inout EventSource) {
        var best = 0.0
        var last = EngineStatistics()
        var alertCount = 0
        let topic = "eks-audit"
        for _ in 0..<max(runs, 1) {
            var engine = DetectionEngine(rules: loaded)
            alertCount = 0
            let (processed, cpu) = events.run(seconds: seconds) { items, first in
                EventSource.handOver(&items) { i, item in
                    alertCount += engine.process(item.event, enrichment: item.enrichment,
                                                 origin: .kafka(topic: topic, partition: 0,
                                                                offset: Int64(first + i))).count
                }
            }
            alertCount += engine.finish().count
            best = max(best, Double(processed) / (Double(cpu) / 1e9))
            last = engine.statistics
        }
        print(String(format: "  five-rule evaluation: %.0f events/s (best of %d runs, %.1f s CPU each)",
                     best, runs, seconds))
        print("  last run: \(last.events) events, \(alertCount) alerts and summaries, late \(last.lateEvents)")
        for (id, rule) in last.rules.sorted(by: { $0.key < $1.key }) {
            print("    \(id): matches \(rule.matches), alerts \(rule.alerts), summaries \(rule.summaries), "
                + "keys \(rule.keys), evictions \(rule.evictions), missing group-by \(rule.missingGroupBy)")
        }
    }

    /// The stateless floor: each event's log type and the conditions of its rules, evaluated as
    /// the engine evaluates them (``DetectionEngine/matchCount(_:enrichment:)``), no clock,
    /// state or alerts.
    func measureConditions(_ loaded: [Rule], _ events: inout EventSource) {
        var best = 0.0
        let engine = DetectionEngine(rules: loaded)
        var matched = 0, total = 0
        for _ in 0..<max(runs, 1) {
            let (processed, cpu) = events.run(seconds: seconds) { items, _ in
                EventSource.handOver(&items) { _, item in
                    matched += engine.matchCount(item.event, enrichment: item.enrichment)
                }
            }
            total += processed
            best = max(best, Double(processed) / (Double(cpu) / 1e9))
        }
        print(String(format: "  conditions only (log type + conditions of %d rules as the engine evaluates them, "
            + "no state): %.0f events/s (%.3f matches per event)", loaded.count, best,
            Double(matched) / Double(max(total, 1))))
    }

    struct Item {
        var event: AuditEvent
        var enrichment: EventEnrichment
    }

    func decodeFixtures() throws -> [AuditEvent] {
        let mix = try DecodeBench.loadMix(from: fixtures)
        let decoders = try ["eks": AuditRecordDecoder(format: .eks), "aks": AuditRecordDecoder(format: .aks),
                            "gke": AuditRecordDecoder(format: .gke)]
        var out: [AuditEvent] = []
        var outcomes: [DecodeOutcome] = []
        for record in mix {
            outcomes.removeAll(keepingCapacity: true)
            decoders[record.cloud]?.decode(record.bytes, into: &outcomes)
            out += outcomes.compactMap(\.event)
        }
        guard !out.isEmpty else { throw ValidationError("no events decoded from \(fixtures)") }
        return out
    }

    static func ip(_ n: Int) -> String { "34.\(n / 65536 % 256).\(n / 256 % 256).\(n % 256)" }

    /// The workload as drawn: the base events cycled, each given a source IP from the pool, a
    /// time 1 ms after the previous, a 403 for `denied` of them, unauthenticated for a tenth of
    /// those, and enrichment: a location for every IP, Tor for one IP in 500. Passes repeat it
    /// with event time moving on (by the workload's span each), so windows open and fire; they close
    /// only in the untimed `finish` (a 2 s run covers about an hour of event time, less than the
    /// default allowed lateness of 6 hours).
    /// Both methods evaluate the same events; they differ only in where the events are.
    struct Workload {
        /// One event as drawn (the base event is its index modulo the base's count): which IP
        /// of the pool, whether made a denial, and unauthenticated.
        struct Draw {
            var ip: Int32
            var denied: Bool
            var unauthenticated: Bool
        }

        static let start: Int64 = 1_743_832_800
        let base: [AuditEvent]
        let draws: [Draw]
        let geos = (0..<50).map {
            GeoLocation(city: "City\($0)", country: "Country\($0 % 7)", countryCode: "C\($0 % 7)")
        }
        /// Seconds of event time one pass moves on.
        var span: Int64 { Int64(draws.count) / 1000 + 1 }

        init(base: [AuditEvent], events: Int, ips: Int, denied: Double) {
            var rng = SystemRandomNumberGenerator()
            self.base = base
            draws = (0..<max(events, 1)).map { _ in
                let n = Int.random(in: 0..<max(ips, 1), using: &rng)
                let isDenied = Double.random(in: 0..<1, using: &rng) < denied
                return Draw(ip: Int32(n), denied: isDenied,
                            unauthenticated: isDenied && Int.random(in: 0..<10, using: &rng) == 0)
            }
        }

        /// The workload's `index`-th event of pass `pass`.
        func item(_ index: Int, pass: Int) -> Item {
            let draw = draws[index]
            var event = base[index % base.count]
            let n = Int(draw.ip)
            let ip = RulesBench.ip(n)
            event.sourceIPs = [ip]
            event.time = EventTime(seconds: Self.start + Int64(pass) * span + Int64(index / 1000),
                                   nanoseconds: Int32(index % 1000) * 1_000_000)
            if draw.denied {
                event.response.code = 403
                if draw.unauthenticated { event.user.groups = ["system:unauthenticated"] }
            }
            let enrichment = EventEnrichment(geo: geos[n % geos.count], torExitIPs: n % 500 == 0 ? [ip] : [],
                                             geoDatabaseType: "GeoLite2-City", geoBuildEpoch: 1_700_000_000,
                                             torListTime: Self.start)
            return Item(event: event, enrichment: enrichment)
        }
    }

    /// Where the timed loop finds its events (``Method``).
    enum EventSource {
        /// Every event of the workload made up front (its own box, strings and arrays: hundreds
        /// of MB, so each is read from memory); passes move their times on, untimed.
        case cold(items: [Item], span: Int64)
        /// Batches made (untimed) just before they are evaluated, hot in the cache.
        case hot(Workload, batch: Int, pass: Int)

        static func cold(_ workload: Workload) -> EventSource {
            .cold(items: workload.draws.indices.map { workload.item($0, pass: 0) }, span: workload.span)
        }

        static func hot(_ workload: Workload, batch: Int) -> EventSource { .hot(workload, batch: batch, pass: 0) }

        /// Hands each item to `body` as the runtime hands over an event it decoded: owned by the
        /// caller, evaluated without a copy (moved out of the array and back). A copy out of the
        /// array (the loop before session 10) retained and released the event's box and the
        /// enrichment's references around each call: ~0.25 µs of ~0.8 per event on this VM.
        @inline(__always)
        static func handOver(_ items: inout [Item], _ body: (Int, Item) -> Void) {
            items.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                for i in buffer.indices {
                    let item = (base + i).move()
                    body(i, item)
                    (base + i).initialize(to: item)
                }
            }
        }

        /// Hands `body` the events (a batch and the index of its first event) in passes until
        /// `seconds` of thread CPU time went into `body`; returns the events handed and that time
        /// (ns). Event time moves on from the previous call's passes.
        mutating func run(seconds: Double, _ body: (inout [Item], Int) -> Void) -> (events: Int, cpu: UInt64) {
            var cpu: UInt64 = 0, handed = 0
            switch self {
            case .cold(var items, let span):
                self = .cold(items: [], span: span)
                repeat {
                    let start = DecodeBench.threadCPUNanoseconds()
                    body(&items, 0)
                    cpu += DecodeBench.threadCPUNanoseconds() - start
                    handed += items.count
                    for i in items.indices { items[i].event.time?.seconds += span }
                } while Double(cpu) < seconds * 1e9
                self = .cold(items: items, span: span)
            case .hot(let workload, let batch, var pass):
                var items: [Item] = []
                items.reserveCapacity(batch)
                repeat {
                    for first in stride(from: 0, to: workload.draws.count, by: batch) {
                        items.removeAll(keepingCapacity: true)
                        for i in first..<min(first + batch, workload.draws.count) {
                            items.append(workload.item(i, pass: pass))
                        }
                        let start = DecodeBench.threadCPUNanoseconds()
                        body(&items, first)
                        cpu += DecodeBench.threadCPUNanoseconds() - start
                        handed += items.count
                    }
                    pass += 1
                } while Double(cpu) < seconds * 1e9
                self = .hot(workload, batch: batch, pass: pass)
            }
            return (handed, cpu)
        }
    }

    /// Heap bytes per tracked key: N keys with one match each (an unfired
    /// threshold window), N fired dedup keys, N aggregate groups.
    func measureMemory(_ loaded: [Rule], _ base: [AuditEvent]) throws {
        guard let template = base.first(where: { $0.logType == .eksAudit }) ?? base.first else { return }
        let cases: [(String, String, (Int, inout AuditEvent) -> EventEnrichment)] = [
            ("threshold key, 1 match (unfired window)", "Kubernetes.API.Multiple403.PublicIP", { _, e in
                e.response.code = 403
                return .none
            }),
            ("dedup key, fired (alert kept for its summary)", "Kubernetes.API.IOC.Activity", { n, _ in
                EventEnrichment(torExitIPs: [Self.ip(n)])
            }),
            // The case above shares one alert content (one template event); here every key's
            // alert reads its own user name and location, so each pays its own content block.
            ("dedup key, fired, content of its own", "Kubernetes.API.IOC.Activity", { n, e in
                e.user.name = "system:serviceaccount:team-\(n):deployer"
                return EventEnrichment(geo: GeoLocation(city: "City \(n)", country: "Country \(n % 250)"),
                                       torExitIPs: [Self.ip(n)])
            }),
            // The same with values that share no prefix or suffix with another key's (a
            // fired key keeps what differs from a shared content: here the whole name and city).
            ("dedup key, fired, own content, no affixes", "Kubernetes.API.IOC.Activity", { n, e in
                let scrambled = UInt64(n + 1) &* 0x9E37_79B9_7F4A_7C15
                e.user.name = [scrambled, scrambled.byteSwapped, scrambled ^ 0x5555_5555_5555_5555]
                    .map { String($0, radix: 36) }.joined()
                return EventEnrichment(geo: GeoLocation(city: String(scrambled >> 12, radix: 36),
                                                        country: "Country \(n % 250)"),
                                       torExitIPs: [Self.ip(n)])
            }),
            ("aggregate group, 1 match, 9 statistics", "Kubernetes.Access.Scanning", { _, e in
                e.response.code = 403
                e.user.groups = ["system:unauthenticated"]
                return EventEnrichment(geo: GeoLocation(city: "Berlin", country: "Germany"))
            }),
        ]
        print("rule state per tracked group key (\(keys) keys, heap bytes by mallinfo2):")
        for (name, id, shape) in cases {
            guard let rule = loaded.first(where: { $0.id == id }) else { continue }
            // Measured from before the events exist to after they are gone: what the engine
            // keeps of them (a string it keeps from an event) counts, the events do not.
            let before = Self.heapInUse()
            var items: [Item] = []
            items.reserveCapacity(keys)
            for n in 0..<keys {
                var event = template
                event.sourceIPs = [Self.ip(n)]
                event.time = EventTime(seconds: 1_743_832_800 + Int64(n % 60))
                event.logType = .eksAudit
                event.isKubernetes = true
                let enrichment = shape(n, &event)
                items.append(Item(event: event, enrichment: enrichment))
            }
            var engine = DetectionEngine(rules: [rule])
            for (i, item) in items.enumerated() {
                _ = engine.process(item.event, enrichment: item.enrichment,
                                   origin: .kafka(topic: "bench", partition: 0, offset: Int64(i)))
            }
            items = []
            let after = Self.heapInUse()
            let tracked = engine.statistics.rules[id]?.keys ?? 0
            let perKey = tracked > 0 ? Double(after - before) / Double(tracked) : 0
            print("  " + name.padding(toLength: 48, withPad: " ", startingAt: 0)
                + String(format: "%8.0f bytes/key (%d keys)", perKey, tracked))
            withExtendedLifetime(engine) {}
        }
    }

    /// Bytes of heap in use, from glibc's `malloc_info` (found by `dlsym`: the
    /// Glibc module does not import malloc.h): the arenas' current size minus
    /// their free chunks, plus mmapped chunks. 0 where unavailable.
    static func heapInUse() -> Int {
        #if canImport(Glibc)
        typealias MallocInfo = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32
        guard let symbol = dlsym(nil, "malloc_info") else { return 0 }
        let mallocInfo = unsafeBitCast(symbol, to: MallocInfo.self)
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let stream = open_memstream(&buffer, &size) else { return 0 }
        _ = mallocInfo(0, stream)
        fclose(stream)
        guard let buffer else { return 0 }
        defer { free(buffer) }
        let xml = String(cString: buffer)
        func last(_ prefix: String) -> Int {
            guard let range = xml.range(of: prefix, options: .backwards) else { return 0 }
            let rest = xml[range.upperBound...]
            guard let sizeKey = rest.range(of: "size=\"") else { return 0 }
            return Int(rest[sizeKey.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        return last("<system type=\"current\"") - last("<total type=\"fast\"") - last("<total type=\"rest\"")
            + last("<total type=\"mmap\"")
        #else
        return 0
        #endif
    }
}
