import ArgumentParser
import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import LoadGen
import Runtime

/// `vigil loadgen`: realistic multi-cloud audit traffic with attacks inside, to the
/// topology's raw topics or to JSON-lines files (the demo, the benchmarks, the tests).
struct LoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Generate multi-cloud Kubernetes audit traffic with attacks, to Kafka or to files.",
        discussion: """
            Background traffic (controllers, nodes, CI and people on EKS, AKS and GKE; process \
            execs in containers), ~1.3 KB per event, with attack instances spread over the stream: \
            scan (unauthenticated 403 probes from a located IP -> Kubernetes.Access.Scanning), \
            eks-403 (12 denials -> Amazon.EKS.Audit.Multiple403 and Kubernetes.API.Multiple403.PublicIP), \
            gke-403 (10 denials -> Kubernetes.API.Multiple403.PublicIP), tor (a request from a Tor \
            exit, rotating EKS/AKS/GKE -> Kubernetes.API.IOC.Activity), interactive (kubectl and curl \
            in a pod -> Kubernetes.Direct.Interactive.API.Request x2). The same seed and start give \
            the same records byte for byte. Records go to the raw topics of --topology (keys as \
            shippers set them: the CloudWatch log stream for EKS, the node for process events, none \
            for AKS and GKE), or with --out to DIR/<topic>.jsonl plus DIR/expected.txt (alerts by \
            rule). A summary goes to stderr, its last line JSON.
            """)

    @Option(help: "Topology file: the raw topics per format, the Kafka settings, the Tor and GeoIP files.")
    var topology: String = "topology/vigil.yaml"

    @Option(help: "Override kafka.bootstrap (host:port[,host:port...]).")
    var bootstrap: String?

    @Option(help: "Write JSON-lines files to this folder instead of producing to Kafka.")
    var out: String?

    @Option(help: "demo: the traffic of `make demo` (60 background events over 9.5 minutes around the current hour, one instance of each attack, three Tor requests, one malformed record); options given as well override it.")
    var preset: Preset?

    @Option(help: "Random seed: the same seed and start give the same records.")
    var seed: UInt64?

    @Option(help: "Event time of the first event: now, hour (the current hour's start), either with +D or -D (hour-90s), Unix seconds, or RFC 3339.")
    var start: String?

    @Option(help: "The current time in Unix seconds, for --start now/hour (tests).")
    var now: Double?

    @Option(help: "Background events (attack events come on top).")
    var count: Int?

    @Option(help: "Generate for this long at --rate (30s, 5m): count = rate x duration.")
    var duration: String?

    @Option(help: "Events per second to produce at; 0 = as fast as possible.")
    var rate: Double = 0

    @Option(help: "Background events per second of event time (default: --rate, or 1000).")
    var eventRate: Double?

    @Option(help: "Spread the background events over this much event time (sets --event-rate).")
    var span: String?

    @Option(help: "Cloud weights, e.g. eks=4,aks=3,gke=2,process=1.")
    var mix: String?

    @Option(help: "EKS events per record: 0 = plain audit events, n = CloudWatch batches of n.")
    var eksBatch: Int?

    @Option(help: "AKS events per record: 0 = one diagnostic record, n = Event Hubs batches of n.")
    var aksBatch: Int?

    @Option(help: "Attack instances, e.g. scan=1,eks-403=2,gke-403=1,tor=3,interactive=5 or all=N.")
    var attacks: String?

    @Option(help: "Spread the attack instances over this first part of the stream (20s, 5m) instead of all of it, so their later steps (up to 25 s after the first) still fall inside the background traffic.")
    var attackSpan: String?

    @Flag(help: "With --rate: render every record before the first is sent, so generating JSON does not share the CPU with what is measured while the records go out (memory: ~1.4 KB per record). Event times then start once rendering is done; the summary reports how late records left at most (max_behind_ms).")
    var prepare = false

    @Option(help: "With --rate: hold records and send them in bursts every this long (50ms, 1s), as a shipper that flushes its buffer on a timer does (Fluent Bit flushes every second by default); each record's timestamp is then its burst's send time, its event time stays when it happened. 0: each record when it is due.")
    var flush: String?

    @Option(help: .hidden)
    var renderEstimate: String?

    @Option(help: "Create this file when the stream starts (after --prepare's rendering; with --flush the first burst leaves one interval later): for scripts that measure while the traffic flows.")
    var sendingFile: String?

    @Option(help: "Truncated records spread over the stream.")
    var malformed: Int?

    @Flag(help: "Do not add each scanner's request after its hour (scan windows then stay open).")
    var noCloseWindows = false

    @Option(help: "Tor exit list (one address per line; default: the topology's Tor file).")
    var tor: String?

    @Option(help: "GeoIP database for located scanner addresses (default: the topology's).")
    var geoip: String?

    @Option(help: ArgumentHelp("How the raw records are compressed: the shippers' choice, not the topology's "
                               + "(kafka.compression is Vigil's own producers').", valueName: "codec"))
    var compression: ProducerSettings.Compression = .none

    enum Preset: String, ExpressibleByArgument, CaseIterable { case demo }

    func run() async throws {
        let loaded = try? TopologyLoader.load(file: topology, bootstrap: bootstrap.map(RunCommand.servers))
        if loaded == nil && out == nil {
            Console.error("vigil loadgen: \(topology) does not load; run vigil validate --topology \(topology)")
            throw ExitCode(1)
        }
        let top = loaded?.0
        let configuration = try makeConfiguration(top)
        var topics: [Cloud: String] = [:]
        for cloud in Cloud.allCases {
            topics[cloud] = top.flatMap { Self.topic(of: cloud, in: $0) }
                ?? ["eks": "eks-audit", "aks": "aks-audit", "gke": "gke-audit", "process": "proc-exec"][cloud.rawValue]
        }
        if out == nil, let top {
            for (cloud, weight) in configuration.mix where weight > 0
                && !top.sources.contains(where: { $0.topic == topics[cloud] }) {
                throw ValidationError("\(topology) has no source topic of format \(cloud.rawValue)")
            }
        }
        var summary = LoadgenSummary(configuration: configuration)
        let began = ContinuousClock.now
        if let out {
            try write(TrafficGenerator(configuration), to: out, topics: topics, summary: &summary)
        } else if let top {
            try await produce(configuration, topology: top, topics: topics, summary: &summary)
        }
        let elapsed = ContinuousClock.now - began
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        Console.error(summary.text)
    }

    // MARK: configuration

    /// The topology's raw topic for a cloud's records: the first source of its format.
    static func topic(of cloud: Cloud, in topology: Topology) -> String? {
        let format: SourceFormat = switch cloud {
        case .eks: .eks
        case .aks: .aks
        case .gke: .gke
        case .process: .process
        }
        return topology.sources.first { $0.format == format }?.topic
    }

    func makeConfiguration(_ top: Topology?) throws -> TrafficConfiguration {
        var c = TrafficConfiguration()
        let clock = now ?? Date().timeIntervalSince1970
        var startText = start ?? "now"
        if preset == .demo {
            c.count = 60
            c.eventRate = 60.0 / 570.0
            c.attacks = [.scan: 1, .eks403: 1, .gke403: 1, .tor: 3, .interactive: 1]
            c.malformed = 1
            if start == nil { startText = "hour-90s" }
        }
        if let seed { c.seed = seed }
        c.startMicros = try Self.parseStart(startText, now: clock)
        guard rate.isFinite, rate >= 0, rate <= 1e9 else { throw ValidationError("--rate \(rate): must be from 0 to 1e9") }
        if let duration {
            guard rate > 0 else { throw ValidationError("--duration needs --rate (events per second)") }
            c.count = Int(rate * Double(try Self.seconds(duration, option: "--duration")))  // at most 3.2e18
        }
        if let count { c.count = max(0, count) }
        if rate > 0 { c.eventRate = rate }
        if let eventRate {
            guard eventRate > 0 else { throw ValidationError("--event-rate must be > 0") }
            c.eventRate = eventRate
        }
        if let span { c.eventRate = Double(max(c.count, 1)) / Double(max(try Self.seconds(span, option: "--span"), 1)) }
        if preset == nil && rate == 0 && eventRate == nil && span == nil { c.eventRate = 1000 }
        if let mix { c.mix = try Self.weights(mix) }
        if let eksBatch { c.eksBatch = max(0, eksBatch) }
        if let aksBatch { c.aksBatch = max(0, aksBatch) }
        if let attacks { c.attacks = try Self.attackCounts(attacks) }
        if let attackSpan {
            let seconds = try Self.seconds(attackSpan, option: "--attack-span")
            guard seconds > 0 else { throw ValidationError("--attack-span \(attackSpan): must be longer than 0") }
            c.attackSpanMicros = seconds * 1_000_000
        }
        if let malformed { c.malformed = max(0, malformed) }
        if let problem = c.spanProblem { throw ValidationError(problem) }
        let lateness = top.map { Int64($0.limits.allowedLateness.components.seconds) } ?? 600
        c.closeWindowsAfterSeconds = noCloseWindows ? nil : lateness
        if let cluster = top?.sources.first(where: { $0.format == .eks })?.cluster { c.eksCluster = cluster }
        c.torExits = try Self.torExits(tor ?? top?.enrichment.tor?.source)
        if let path = geoip ?? top?.enrichment.geoIP?.path
            ?? (FileManager.default.fileExists(atPath: "geo/GeoLite2-City.mmdb") ? "geo/GeoLite2-City.mmdb" : nil) {
            c.isLocated = try Self.located(by: path)
        }
        return c
    }

    /// Whether the GeoIP database at `path` knows a country and a city for an address.
    static func located(by path: String) throws -> @Sendable (String) -> Bool {
        let database: GeoDatabase
        do {
            database = try GeoDatabase(path: path)
        } catch {
            throw ValidationError("--geoip \(path): \(error)")
        }
        return { text in
            guard let address = IPAddress(text), let place = database.lookup(address) else { return false }
            return place.country != nil && place.city != nil
        }
    }

    /// The addresses of a Tor exit list file (one per line); none for a URL source.
    static func torExits(_ path: String?) throws -> [String] {
        guard let path, !path.contains("://") else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--tor \(path): cannot read the file")
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { IPAddress($0) != nil }
    }

    /// Unix seconds as microseconds, for a time from 1970 to the end of 9999 (the times an
    /// event may carry; `nan`, `inf` or 1e300 trapped in the conversion).
    private static func microseconds(_ seconds: Double, _ text: String) throws -> Int64 {
        guard seconds >= 0, seconds < 253_402_300_800 else {
            throw ValidationError("--start \(text): not a time from 1970 to 9999")
        }
        return Int64((seconds * 1e6).rounded())
    }

    /// `now`, `hour`, either ± a duration; Unix seconds; RFC 3339.
    static func parseStart(_ text: String, now: Double) throws -> Int64 {
        for (base, value) in [("now", now), ("hour", (now / 3600).rounded(.down) * 3600)] where text.hasPrefix(base) {
            let rest = text.dropFirst(base.count)
            var offset = 0.0
            if let sign = rest.first, sign == "+" || sign == "-" {
                offset = Double(try seconds(String(rest.dropFirst()), option: "--start")) * (sign == "-" ? -1 : 1)
            } else if !rest.isEmpty {
                throw ValidationError("--start \(text): expected \(base), \(base)+D or \(base)-D")
            }
            return try microseconds(value + offset, text)
        }
        if let seconds = Double(text) { return try microseconds(seconds, text) }
        if let time = EventTime(parsing: text) {  // RFC 3339, exact to the microsecond
            return Int64(time.seconds) * 1_000_000 + Int64(time.nanoseconds / 1_000)
        }
        throw ValidationError("--start \(text): not now, hour, Unix seconds nor an RFC 3339 time")
    }

    /// A duration as topology files write it (`50ms`, `1s`); a bare number is milliseconds.
    static func duration(_ text: String, option: String) throws -> Duration {
        if let n = Int64(text), n >= 0 { return .milliseconds(n) }
        guard let d = Topology.duration(text) else { throw ValidationError("\(option) \(text): not a duration (50ms, 1s)") }
        return d
    }

    static func seconds(_ text: String, option: String) throws -> Int64 {
        guard let seconds = Int64(text) ?? RuleDuration(parsing: text)?.seconds else {
            throw ValidationError("\(option) \(text): not a duration (30s, 5m, 1h)")
        }
        guard (0...TrafficConfiguration.maxSpanSeconds).contains(seconds) else {
            throw ValidationError("\(option) \(text): must be from 0 to 100 years")
        }
        return seconds
    }

    static func pairs(_ text: String, option: String) throws -> [(String, Double)] {
        try text.split(separator: ",").map { part in
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let n = Double(kv[1]), n >= 0 else {
                throw ValidationError("\(option) \(text): expected NAME=NUMBER,...")
            }
            return (kv[0], n)
        }
    }

    static func weights(_ text: String) throws -> [Cloud: Double] {
        var mix: [Cloud: Double] = [:]
        for (name, n) in try pairs(text, option: "--mix") {
            guard let cloud = Cloud(rawValue: name) else {
                throw ValidationError("--mix: unknown cloud \(name); use eks, aks, gke, process")
            }
            mix[cloud] = n
        }
        guard mix.values.contains(where: { $0 > 0 }) else { throw ValidationError("--mix: every weight is 0") }
        return mix
    }

    static func attackCounts(_ text: String) throws -> [Attack: Int] {
        var counts: [Attack: Int] = [:]
        for (name, n) in try pairs(text, option: "--attacks") {
            if name == "all" {
                for attack in Attack.allCases { counts[attack] = Int(n) }
            } else if let attack = Attack(rawValue: name) {
                counts[attack] = Int(n)
            } else {
                throw ValidationError("--attacks: unknown attack \(name); use "
                    + Attack.allCases.map(\.rawValue).joined(separator: ", ") + " or all")
            }
        }
        return counts
    }

    // MARK: output

    private func write(_ generator: TrafficGenerator, to folder: String, topics: [Cloud: String],
                       summary: inout LoadgenSummary) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var files: [Cloud: FileHandle] = [:]
        var buffers: [Cloud: [UInt8]] = [:]
        for cloud in Cloud.allCases {
            let path = folder + "/" + (topics[cloud] ?? cloud.rawValue) + ".jsonl"
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let file = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("--out: cannot write \(path)")
            }
            files[cloud] = file
        }
        for record in generator {
            buffers[record.cloud, default: []].append(contentsOf: record.value)
            buffers[record.cloud, default: []].append(10)
            if buffers[record.cloud]!.count > 1 << 20 {
                files[record.cloud]?.write(Data(buffers[record.cloud]!))
                buffers[record.cloud]!.removeAll(keepingCapacity: true)
            }
            summary.add(record)
        }
        for (cloud, buffer) in buffers where !buffer.isEmpty { files[cloud]?.write(Data(buffer)) }
        for file in files.values { try file.close() }
        let expected = generator.configuration.expectedAlerts.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value)\n" }.joined()
        try expected.write(toFile: folder + "/expected.txt", atomically: true, encoding: .utf8)
    }

    private func produce(_ configuration: TrafficConfiguration, topology: Topology, topics: [Cloud: String],
                         summary: inout LoadgenSummary) async throws {
        let logger = Console.logger("vigil.loadgen", level: .warning)
        var settings = topology.producerSettings()
        settings.compression = compression
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(settings: settings, logger: logger)
        } catch {
            Console.error("vigil loadgen: \(error)")
            throw ExitCode(1)
        }
        let tally = DeliveryTally()
        var configuration = configuration
        // --flush's interval in microseconds of event time (0: none).
        let burst = try flush.map { Int64(try Self.duration($0, option: "--flush") / .microseconds(1)) } ?? 0
        let live = rate > 0 && (start ?? "now").hasPrefix("now") && now == nil
        let records: AnySequence<GeneratedRecord>
        let began: ContinuousClock.Instant
        if live && prepare {
            (records, began) = try Self.prepareLive(&configuration, start: start ?? "now",
                                                    estimate: try renderEstimate.map { try Self.duration($0, option: "--render-estimate") }
                                                        ?? Self.renderTime(configuration))
        } else {
            let startedAt = ContinuousClock.now
            if live {
                // Live traffic: event times start now, as production does (the producer is up).
                configuration.startMicros = Self.nowMicros + (try Self.parseStart(start ?? "now", now: 0))
            }
            records = prepare ? AnySequence(Array(TrafficGenerator(configuration))) : AnySequence(TrafficGenerator(configuration))
            began = live ? startedAt : ContinuousClock.now
        }
        if let sendingFile {
            // When the stream starts (a --prepare'd stream after its estimated rendering, which
            // may have ended early; with --flush the first burst leaves one interval later): a
            // script counting CPU from here counts sending.
            if rate > 0, began > ContinuousClock.now { try? await Task.sleep(until: began, clock: .continuous) }
            _ = FileManager.default.createFile(atPath: sendingFile, contents: Data())
        }
        for record in records {
            if rate > 0 {
                // Paced by event time: a record leaves when its (last) event happens, relative
                // to the stream's start (an attack's later steps wait for their time), or with
                // --flush at the end of the burst interval it happens in.
                var offset = record.micros - configuration.startMicros
                if burst > 0 { offset = (offset / burst + 1) * burst }
                let due = began + .microseconds(offset)
                let wait = due - ContinuousClock.now
                if wait > .milliseconds(1) { try? await Task.sleep(for: wait) }
                summary.behind(ContinuousClock.now - due)
            }
            let topic = topics[record.cloud] ?? record.cloud.rawValue
            await tally.send(ProducerRecord(topic: topic, key: record.key, value: record.value), with: producer)
            summary.add(record)
        }
        let (failed, first) = await tally.finish(producer, timeout: settings.deliveryTimeout)
        summary.failed = failed
        if failed > 0 || first != nil {
            Console.error("vigil loadgen: \(failed) records failed: \(first ?? "")")
            Console.error(summary.text)
            throw ExitCode(1)
        }
    }

    static var nowMicros: Int64 { Int64((Date().timeIntervalSince1970 * 1e6).rounded()) }

    /// `--prepare`d live traffic: every record rendered with event times that start once
    /// rendering is done, and when the first is due. Event times are written into the records,
    /// so they are set before rendering, `estimate` after now; a rendering that overran it is
    /// thrown away and done again with event times starting after a rendering as long as the
    /// one measured (sending the first one late would have sent every record behind its event
    /// time until the pacing caught up: a burst of records, each late by up to the overrun,
    /// at the start of what is measured; a 1.2M-record rendering overran the sample's estimate
    /// by 3.7-5.5 s).
    static func prepareLive(_ configuration: inout TrafficConfiguration, start: String,
                            estimate: Duration) throws -> (AnySequence<GeneratedRecord>, ContinuousClock.Instant) {
        let offset = try parseStart(start, now: 0)
        var lead = estimate
        for attempt in 1... {
            let began = ContinuousClock.now
            configuration.startMicros = nowMicros + offset + Int64(lead / .microseconds(1))
            let records = Array(TrafficGenerator(configuration))
            let took = ContinuousClock.now - began
            // After three tries (a machine slowing down as it renders) the records go as they
            // are, late; the summary's max_behind_ms says by how much.
            if took <= lead || attempt == 3 { return (AnySequence(records), began + lead) }
            Console.error("vigil loadgen: rendering took \(took), over the \(lead) estimated; rendering again with event times that start later")
            lead = took * 1.3 + .milliseconds(500)
        }
        preconditionFailure("unreachable: the loop returns by its third try")
    }

    /// How long rendering the configuration's records takes, from a sample of up to 5,000
    /// background events, with a margin: when `--prepare`d live traffic can start.
    static func renderTime(_ configuration: TrafficConfiguration) -> Duration {
        var sample = configuration
        sample.count = min(configuration.count, 5_000)
        sample.attacks = [:]
        sample.malformed = 0
        let began = ContinuousClock.now
        let rendered = TrafficGenerator(sample).reduce(0) { $0 + $1.events }
        let took = ContinuousClock.now - began
        // An attack instance is at most a dozen events.
        let total = configuration.count + configuration.attacks.values.reduce(0, +) * 12
        return took * (1.3 * Double(total) / Double(max(rendered, 1))) + .milliseconds(500)
    }
}

/// What loadgen made: counts per cloud, sizes, expected alerts; printed at the end.
struct LoadgenSummary {
    let configuration: TrafficConfiguration
    var records: [Cloud: Int] = [:]
    var events: [Cloud: Int] = [:]
    var malformed = 0
    var bytes = 0
    var first: Int64 = .max
    var last: Int64 = .min
    var seconds = 0.0
    var failed = 0
    /// Paced traffic: how long after it was due (its event time, with --flush its burst's time)
    /// the most belated record left (nil: not paced).
    var maxBehind: Duration?

    mutating func behind(_ lateness: Duration) { maxBehind = max(maxBehind ?? lateness, lateness) }

    mutating func add(_ record: GeneratedRecord) {
        records[record.cloud, default: 0] += 1
        events[record.cloud, default: 0] += record.events
        if record.events == 0 { malformed += 1 }
        bytes += record.value.count
        first = min(first, record.micros)
        last = max(last, record.micros)
    }

    var text: String {
        let totalRecords = records.values.reduce(0, +), totalEvents = events.values.reduce(0, +)
        let perCloud = Cloud.allCases.filter { records[$0] != nil }
            .map { "\($0.rawValue) \(records[$0]!) records / \(events[$0] ?? 0) events" }.joined(separator: ", ")
        let expected = configuration.expectedAlerts.sorted { $0.key < $1.key }
        let span = first <= last
            ? "\(Self.time(first)) .. \(Self.time(last))" : "-"
        let behindMs = maxBehind.map { max(0, Int($0 / .milliseconds(1))) }
        let json = "{\"records\":\(totalRecords),\"events\":\(totalEvents),\"malformed\":\(malformed),\"bytes\":\(bytes),"
            + "\"seconds\":\(String(format: "%.3f", seconds)),\"events_per_second\":\(Int(Double(totalEvents) / max(seconds, 1e-9))),"
            + "\"failed\":\(failed),"
            + (behindMs.map { "\"max_behind_ms\":\($0)," } ?? "")
            + "\"expected_alerts\":{"
            + expected.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}}"
        return """
            loadgen: \(totalRecords) records (\(perCloud); \(malformed) malformed), \(totalEvents) events, \
            \(bytes / max(totalEvents, 1)) bytes per event, event time \(span), \
            \(String(format: "%.2f", seconds)) s (\(Int(Double(totalEvents) / max(seconds, 1e-9))) events/s)\
            \(behindMs.map { "; paced: records left at most \($0) ms after they were due" } ?? "")
            expected alerts: \(expected.isEmpty ? "none" : expected.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            \(json)
            """
    }

    static func time(_ micros: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(micros) / 1e6))
    }
}

extension ProducerSettings.Compression: ExpressibleByArgument {}
