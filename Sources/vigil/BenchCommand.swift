import ArgumentParser
import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import LoadGen
import Runtime

/// `vigil bench`: the pipeline in one thread, no broker: decode → enrich → detect over
/// generated traffic (or loadgen files), events per second of CPU time.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure decode -> enrich -> detect in-process (one thread, no broker): events/s per core.",
        discussion: """
            The records are made by the generator of `vigil loadgen` (same options) or read from \
            files it wrote (--files DIR: DIR/<topic>.jsonl, the format from the topology's source of \
            that topic). Each run processes every record once with the topology's decoders, GeoIP \
            and Tor list and a fresh engine holding its rules; rates are events per second of this \
            thread's CPU time (other processes on the machine do not count), best of --runs. \
            Stages: decode; + enrich; + detect (the goal: >= 250k events/s per core); and the \
            runtime's path, which also encodes each event as a repartition record and rebuilds it \
            as the detect stage does (the compact version-2 record, one per event; the same in \
            frames of the topology's frame_events, as Vigil runs by default; and, for comparison, \
            the version-1 record, whose JSON value is decoded a second time).
            """)

    @Option(help: "Topology file: decoders, GeoIP, Tor list, rules, limits.")
    var topology: String = "topology/vigil.yaml"

    @Option(help: "Read DIR/<topic>.jsonl (written by vigil loadgen --out DIR) instead of generating.")
    var files: String?

    @Option(help: "Background events to generate.")
    var count: Int = 200_000

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Background events per second of event time.")
    var eventRate: Double = 2000

    @Option(help: "Cloud weights, e.g. eks=4,aks=3,gke=2,process=1.")
    var mix: String?

    @Option(help: "EKS events per record (0 = plain events, n = CloudWatch batches).")
    var eksBatch: Int = 0

    @Option(help: "AKS events per record (0 = one diagnostic record, n = Event Hubs batches).")
    var aksBatch: Int = 0

    @Option(help: "Attack instances, as for loadgen.")
    var attacks: String = "all=20"

    @Option(help: "Timed runs (the best is reported).")
    var runs: Int = 3

    @Flag(help: "Only the full path (decode + enrich + detect), not each stage.")
    var fullOnly = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() async throws {
        let (top, rules): (Topology, [Rule])
        do {
            (top, rules) = try TopologyLoader.load(file: topology)
        } catch {
            for problem in error.problems { Console.error(problem.message) }
            throw ExitCode(1)
        }
        let records = try await input(top)
        let bytes = records.reduce(0) { $0 + $1.value.count }
        var decoders: [String: AuditRecordDecoder] = [:]
        for source in top.sources {
            decoders[source.topic] = try AuditRecordDecoder(format: source.format, options: top.decoderOptions(for: source))
        }
        let geo = try top.enrichment.geoIP.map { try GeoLocator(configuration: $0.locatorConfiguration) }
        var tor: TorExitList?
        if let t = top.enrichment.tor {
            let list = TorExitList(configuration: t.listConfiguration)
            _ = await list.refresh()
            tor = list
        }
        // As an ingest worker enriches: through a memo of recent addresses' answers.
        let enricher = EnrichmentMemo(enricher: Enricher(geo: geo, tor: tor))
        enricher.begin()
        let settings = EngineSettings(allowedLateness: top.limits.allowedLateness.components.seconds,
                                      maxKeysPerRule: top.limits.maxKeysPerRule)
        let repartition = try RepartitionDecoder(options: DecoderOptions(maxRecordBytes: top.limits.maxRecordBytes,
                                                                         maxDepth: top.limits.maxDepth))
        let machine = ProcessInfo.processInfo
        print("vigil bench: \(records.count) records, \(bytes / max(records.count, 1)) bytes per record, "
            + "\(rules.count) rules, GeoIP \(geo == nil ? "off" : "on"), Tor \(tor?.snapshot == nil ? "off" : "on"); "
            + "\(machine.activeProcessorCount) cores, load average \(Self.loadAverage())")

        var outcomes: [DecodeOutcome] = []
        outcomes.reserveCapacity(64)
        /// One pass over every record; `body` gets each decoded event with its record.
        func pass(_ body: (AuditEvent, BenchRecord, Int) -> Void) -> Int {
            var events = 0
            for record in records {
                outcomes.removeAll(keepingCapacity: true)
                decoders[record.topic]?.decode(record.value, into: &outcomes)
                let several = outcomes.count > 1
                for (index, outcome) in outcomes.enumerated() {
                    if case .decoded(let event) = outcome {
                        events += 1
                        body(event, record, several ? index : -1)
                    }
                }
            }
            return events
        }
        /// A produced record as the detect stage's consumer gets it back (partition 0).
        func consumed(_ out: ProducerRecord, at offset: Int64) -> ConsumerRecord {
            ConsumerRecord(topic: out.topic, partition: 0, offset: offset, key: out.key, value: out.value, headers: out.headers,
                           timestamp: out.timestampMilliseconds.map { .init(kind: .createTime, milliseconds: $0) })
        }
        func enrich(_ event: AuditEvent) -> EventEnrichment {
            enricher.enrich(sourceIPs: event.sourceIPs, at: event.time?.date)
        }

        var rows: [(String, Double, Int)] = []
        func measure(_ name: String, _ body: () -> (events: Int, alerts: Int)) {
            var best = 0.0, alerts = 0
            for _ in 0..<max(1, runs) {
                let start = Self.threadCPU()
                let (events, a) = body()
                let seconds = Self.threadCPU() - start
                best = max(best, Double(events) / max(seconds, 1e-9))
                alerts = a
            }
            rows.append((name, best, alerts))
            print(name.padding(toLength: 52, withPad: " ", startingAt: 0)
                + String(format: "%10.0f events/s", best) + (alerts >= 0 ? "   \(alerts) alerts" : ""))
        }
        if !fullOnly {
            measure("decode") { (pass { _, _, _ in }, -1) }
            var sink = 0
            measure("decode + enrich") {
                let n = pass { event, _, _ in sink &+= enrich(event).torExitIPs.count }
                return (n, -1)
            }
        }
        measure("decode + enrich + detect (the goal: >= 250k)") {
            var engine = DetectionEngine(rules: rules, settings: settings)
            var alerts = 0
            var offset: Int64 = 0
            let n = pass { event, record, _ in
                offset += 1
                alerts += engine.process(event, enrichment: enrich(event),
                                         origin: .kafka(topic: record.topic, partition: 0, offset: offset)).count
            }
            alerts += engine.finish().count
            return (n, alerts)
        }
        if !fullOnly {
            let carried = DocumentPolicy.carried(by: rules)
            /// Encodes each event as ingest does, rebuilds it as the detect stage does, detects.
            func runtimePath(_ encode: (AuditEvent, EventEnrichment, RawOrigin) -> ProducerRecord) -> (events: Int, alerts: Int) {
                var engine = DetectionEngine(rules: rules, settings: settings)
                var alerts = 0
                var offset: Int64 = 0
                let n = pass { event, record, index in
                    offset += 1
                    let origin = RawOrigin(topic: record.topic, partition: 0, offset: offset, index: index < 0 ? nil : index)
                    let out = encode(event, enrich(event), origin)
                    guard let e = repartition.decode(consumed(out, at: offset)).event else { return }
                    alerts += engine.process(e.event, enrichment: e.enrichment,
                                             origin: .kafka(topic: out.topic, partition: 0, offset: offset)).count
                }
                alerts += engine.finish().count
                return (n, alerts)
            }
            let topic = top.topics.repartition.name
            measure("runtime path: + repartition encode/decode") {
                runtimePath { event, enrichment, origin in
                    RepartitionCodec.encode(event, enrichment: enrichment, origin: origin,
                                            documents: DocumentPolicy.carries(carried, event.logType), topic: topic)
                }
            }
            let frameEvents = max(2, top.topics.repartition.frameEvents)
            /// `frame`'s record, and a new frame started, once it holds `least` events.
            func take(_ frame: inout RepartitionFrame, atLeast least: Int) -> ProducerRecord? {
                guard frame.count >= max(least, 1) else { return nil }
                defer { frame = RepartitionFrame(partition: 0, events: frameEvents) }
                return frame.record(topic: topic)
            }
            /// A frame's events as the detect stage rebuilds them.
            func unframe(_ out: ProducerRecord, at offset: Int64, _ body: (RepartitionedEvent) -> Void) {
                let record = consumed(out, at: offset)
                for entry in out.value.flatMap(RepartitionFrame.entries) ?? [] {
                    if let e = repartition.decode(record, entry: entry).event { body(e) }
                }
            }
            measure("  the same in frames (\(frameEvents) events per record)") {
                // As ingest frames a batch's events for one partition and detect splits them
                // (one partition here: the frames hold the events in their order).
                var engine = DetectionEngine(rules: rules, settings: settings)
                var alerts = 0
                var offset: Int64 = 0
                var frame = RepartitionFrame(partition: 0, events: frameEvents)
                func detect(_ out: ProducerRecord) {
                    offset += 1
                    unframe(out, at: offset) { e in
                        alerts += engine.process(e.event, enrichment: e.enrichment,
                                                 origin: .kafka(topic: topic, partition: 0, offset: offset)).count
                    }
                }
                var input: Int64 = 0
                let n = pass { event, record, index in
                    input += 1
                    let origin = RawOrigin(topic: record.topic, partition: 0, offset: input, index: index < 0 ? nil : index)
                    frame.append(event, enrichment: enrich(event), origin: origin, arrival: nil,
                                 documents: DocumentPolicy.carries(carried, event.logType))
                    if let out = take(&frame, atLeast: frameEvents) { detect(out) }
                }
                if let out = take(&frame, atLeast: 1) { detect(out) }
                alerts += engine.finish().count
                return (n, alerts)
            }
            // The frame codec alone, over events decoded and enriched beforehand: what ingest's
            // encoding and detect's decoding cost per event, apart from the rest of the path.
            var prepared: [(event: AuditEvent, enrichment: EventEnrichment, origin: RawOrigin, documents: Bool)] = []
            var input: Int64 = 0
            _ = pass { event, record, index in
                input += 1
                prepared.append((event, enrich(event), RawOrigin(topic: record.topic, partition: 0, offset: input,
                                                                 index: index < 0 ? nil : index),
                                 DocumentPolicy.carries(carried, event.logType)))
            }
            /// The prepared events in frames; `keep`: the frames kept for the decoding row (a timed
            /// pass drops each as ingest does once it is produced: kept, every frame's storage was
            /// fresh memory and page faults took a fifth of the row).
            func encodeFrames(keep: Bool) -> [ProducerRecord] {
                var frames: [ProducerRecord] = []
                var frame = RepartitionFrame(partition: 0, events: frameEvents)
                for p in prepared {
                    frame.append(p.event, enrichment: p.enrichment, origin: p.origin, arrival: nil, documents: p.documents)
                    if let out = take(&frame, atLeast: frameEvents), keep { frames.append(out) }
                }
                if let out = take(&frame, atLeast: 1), keep { frames.append(out) }
                return frames
            }
            measure("    frame encode alone") {
                _ = encodeFrames(keep: false)
                return (prepared.count, -1)
            }
            let frames = encodeFrames(keep: true)
            measure("    frame decode alone") {
                var n = 0
                for (i, out) in frames.enumerated() { unframe(out, at: Int64(i)) { _ in n += 1 } }
                return (n, -1)
            }
            prepared = []
            measure("  the same with version-1 records (JSON + headers)") {
                runtimePath { event, enrichment, origin in
                    RepartitionCodec.encodeVersion1(event, enrichment: enrichment, origin: origin, topic: topic)
                }
            }
        }
        let full = rows.first { $0.0.hasPrefix("decode + enrich + detect") }?.1 ?? 0
        print(String(format: "full path: %.0f events/s per core (goal >= 250000: %@)", full, full >= 250_000 ? "met" : "not met"))
    }

    struct BenchRecord {
        var topic: String
        /// Padded for an in-place parse, as the consumer hands records over.
        var value: [UInt8]
    }

    private func input(_ top: Topology) async throws -> [BenchRecord] {
        if let files {
            var records: [BenchRecord] = []
            for source in top.sources {
                guard let data = FileManager.default.contents(atPath: files + "/" + source.topic + ".jsonl") else { continue }
                for line in data.split(separator: 10) where !line.isEmpty {
                    records.append(BenchRecord(topic: source.topic, value: AuditRecordDecoder.padded(line)))
                }
            }
            guard !records.isEmpty else { throw ValidationError("--files \(files): no <topic>.jsonl of the topology's sources") }
            return records
        }
        var c = TrafficConfiguration()
        c.seed = seed
        c.count = count
        c.eventRate = eventRate
        if let problem = c.spanProblem { throw ValidationError(problem) }
        c.startMicros = Int64(Date().timeIntervalSince1970 / 3600) * 3_600_000_000
        if let mix { c.mix = try LoadgenCommand.weights(mix) }
        c.eksBatch = eksBatch
        c.aksBatch = aksBatch
        c.attacks = try LoadgenCommand.attackCounts(attacks)
        c.closeWindowsAfterSeconds = Int64(top.limits.allowedLateness.components.seconds)
        c.torExits = try LoadgenCommand.torExits(top.enrichment.tor?.source)
        if let path = top.enrichment.geoIP?.path { c.isLocated = try LoadgenCommand.located(by: path) }
        var records: [BenchRecord] = []
        for record in TrafficGenerator(c) {
            guard let topic = LoadgenCommand.topic(of: record.cloud, in: top) else { continue }
            records.append(BenchRecord(topic: topic, value: AuditRecordDecoder.padded(record.value)))
        }
        return records
    }

    static func threadCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }
}
