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

    func run() throws {
        let loaded = try RuleLoader.load(directory: rules)
        let base = try decodeFixtures()
        print("rules benchmark: \(loaded.count) rules from \(rules), \(base.count) distinct decoded events "
            + "(\(Set(base.map(\.logType)).map(\.rawValue).sorted().joined(separator: ", "))), one thread")
        var workload = makeWorkload(base)
        let span = Int64(workload.count) / 1000 + 1
        var best = 0.0
        var last = EngineStatistics()
        var alertCount = 0
        let topic = "eks-audit"
        for _ in 0..<(only.contains("five") ? max(runs, 1) : 0) {
            var engine = DetectionEngine(rules: loaded)
            var processed = 0
            var cpu: UInt64 = 0
            alertCount = 0
            repeat {
                let start = DecodeBench.threadCPUNanoseconds()
                for i in workload.indices {
                    alertCount += engine.process(workload[i].event, enrichment: workload[i].enrichment,
                                                 origin: .kafka(topic: topic, partition: 0, offset: Int64(i))).count
                }
                cpu += DecodeBench.threadCPUNanoseconds() - start
                processed += workload.count
                // The next pass continues in event time (not timed).
                for i in workload.indices { workload[i].event.time?.seconds += span }
            } while Double(cpu) < seconds * 1e9
            alertCount += engine.finish().count
            best = max(best, Double(processed) / (Double(cpu) / 1e9))
            last = engine.statistics
        }
        if only.contains("five") {
            print(String(format: "five-rule evaluation: %.0f events/s (best of %d runs, %.1f s CPU each)",
                         best, runs, seconds))
        }
        // The stateless floor: the conditions of the rules that read the event's log type
        // (chosen per type up front, as the engine does), no state, no alerts.
        var conditionsOnly = 0.0
        let conditions = Dictionary(uniqueKeysWithValues: LogType.allCases.map { type in
            (type, loaded.filter { $0.reads(type) }.map(\.condition))
        })
        for _ in 0..<(only.contains("conditions") ? max(runs, 1) : 0) {
            var matched = 0
            var passes = 0
            let start = DecodeBench.threadCPUNanoseconds()
            var cpu: UInt64 = 0
            repeat {
                for i in workload.indices {
                    let context = AuditEventContext(event: workload[i].event, enrichment: workload[i].enrichment)
                    for condition in conditions[workload[i].event.logType] ?? [] where condition.evaluate(context) {
                        matched += 1
                    }
                }
                passes += 1
                cpu = DecodeBench.threadCPUNanoseconds() - start
            } while Double(cpu) < seconds * 1e9
            conditionsOnly = max(conditionsOnly, Double(passes * workload.count) / (Double(cpu) / 1e9))
            if matched < 0 { print(matched) }
        }
        if only.contains("conditions") {
            print(String(format: "conditions only (log type + condition of %d rules, no state): %.0f events/s",
                         loaded.count, conditionsOnly))
        }
        if only.contains("five") {
            print("last run: \(last.events) events, \(alertCount) alerts and summaries, late \(last.lateEvents)")
            for (id, rule) in last.rules.sorted(by: { $0.key < $1.key }) {
                print("  \(id): matches \(rule.matches), alerts \(rule.alerts), summaries \(rule.summaries), "
                    + "keys \(rule.keys), evictions \(rule.evictions), missing group-by \(rule.missingGroupBy)")
            }
        }
        if only.contains("memory") { try measureMemory(loaded, base) }
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

    /// The base events cycled, each given a source IP from the pool, a time 1 ms after
    /// the previous, a 403 for `denied` of them, unauthenticated for a tenth of those,
    /// and enrichment: a location for every IP, Tor for one IP in 500.
    func makeWorkload(_ base: [AuditEvent]) -> [Item] {
        var rng = SystemRandomNumberGenerator()
        let geos = (0..<50).map { GeoLocation(city: "City\($0)", country: "Country\($0 % 7)", countryCode: "C\($0 % 7)") }
        let start: Int64 = 1_743_832_800
        return (0..<events).map { i in
            var event = base[i % base.count]
            let n = Int.random(in: 0..<max(ips, 1), using: &rng)
            let ip = Self.ip(n)
            event.sourceIPs = [ip]
            event.time = EventTime(seconds: start + Int64(i / 1000), nanoseconds: Int32(i % 1000) * 1_000_000)
            if Double.random(in: 0..<1, using: &rng) < denied {
                event.response.code = 403
                if Int.random(in: 0..<10, using: &rng) == 0 { event.user.groups = ["system:unauthenticated"] }
            }
            let enrichment = EventEnrichment(geo: geos[n % geos.count], torExitIPs: n % 500 == 0 ? [ip] : [],
                                             geoDatabaseType: "GeoLite2-City", geoBuildEpoch: 1_700_000_000,
                                             torListTime: start)
            return Item(event: event, enrichment: enrichment)
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
