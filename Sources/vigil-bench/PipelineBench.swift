import ArgumentParser
import AuditEvents
import Foundation
import KafkaIO
import Logging
import Synchronization

/// `vigil-bench drain`: watches `vigil run` drain a backlog: both groups' committed offsets
/// against the known ends (the records loadgen produced, the events ingest repartitions),
/// and the process's CPU time and peak RSS once the lag is zero. ops/bench/e2e.sh runs it.
struct DrainBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Wait until vigil run's groups have committed a known backlog; print rates, CPU, peak RSS (JSON).")

    @Option(help: "Bootstrap servers (host:port).") var bootstrap: String
    @Option(help: "The ingest group.") var ingestGroup = "vigil-ingest"
    @Option(help: "The detect group.") var detectGroup = "vigil-detect"
    @Option(help: "Raw topics, comma-separated.") var rawTopics: String
    @Option(help: "Partitions of each raw topic.") var rawPartitions: Int32 = 4
    @Option(help: "The repartition topic.") var repartitionTopic = "vigil.events.by-key"
    @Option(help: "Partitions of the repartition topic.") var repartitionPartitions: Int32 = 4
    @Option(help: "Raw records in the backlog (ingest is drained when it committed them all).") var records: Int
    @Option(help: "Events in the backlog (detect is drained when it committed them all).") var events: Int
    @Option(help: "The vigil run process (CPU time and peak RSS from /proc).") var pid: Int32
    @Option(help: "Give up after this many seconds.") var timeout: Double = 600
    @Option(help: "Poll interval in milliseconds.") var pollMs: Int = 100
    @Option(help: """
        vigil run's /metrics URL. Needed when ingest frames events (several per repartition record): \
        detect is then drained when it evaluated every event (vigil_detect_records_total) and committed \
        every record ingest produced (vigil_repartition_records_total). For fresh topics and a vigil \
        run started with them (the counts are since its start, the offsets absolute), as e2e.sh runs it.
        """) var metrics: String?

    func run() async throws {
        var logger = Logger(label: "vigil.bench.drain")
        logger.logLevel = .error
        let admin = try KafkaAdmin(settings: ClientSettings(bootstrapServers: [bootstrap], clientID: "vigil-bench"),
                                   logger: logger)
        let raw = rawTopics.split(separator: ",").flatMap { t in
            (0..<rawPartitions).map { TopicPartition(String(t), $0) }
        }
        let repartition = (0..<repartitionPartitions).map { TopicPartition(repartitionTopic, $0) }
        func sum(_ group: String, _ partitions: [TopicPartition]) async -> Int {
            let offsets = (try? await admin.committedOffsets(group: group, partitions: partitions)) ?? [:]
            return offsets.values.reduce(0) { $0 + max(0, Int($1)) }
        }
        let start = ContinuousClock.now
        func elapsed() -> Double { Self.seconds(ContinuousClock.now - start) }
        var firstDetect: (time: Double, events: Int)?
        var ingestDone: Double?
        var lastReport = -1.0
        while true {
            let ingested = await sum(ingestGroup, raw)
            let committed = await sum(detectGroup, repartition)
            // Events detect has done: the committed records, or with frames the events it
            // evaluated, once it also committed every record ingest produced.
            var detected = committed
            if let metrics {
                let m = Self.metrics(metrics)
                let produced = Int(m["vigil_repartition_records_total"] ?? 0)
                detected = Int(m["vigil_detect_records_total"] ?? 0)
                if ingested < records || committed < produced { detected = min(detected, events - 1) }
                if committed == 0 { detected = 0 }
            }
            let now = elapsed()
            if firstDetect == nil && detected > 0 { firstDetect = (now, detected) }
            if ingestDone == nil && ingested >= records { ingestDone = now }
            if now - lastReport >= 2 {
                FileHandle.standardError.write(Data(String(format: "drain %6.1f s: ingest %d/%d records, detect %d/%d events\n",
                                                           now, ingested, records, detected, events).utf8))
                lastReport = now
            }
            if ingested >= records && detected >= events { break }
            if now > timeout {
                FileHandle.standardError.write(Data("drain: timed out after \(timeout) s\n".utf8))
                throw ExitCode(1)
            }
            try await Task.sleep(for: .milliseconds(pollMs))
        }
        let total = elapsed()
        let (cpu, rss) = Self.usage(pid)
        let steady = firstDetect.map { Double(events - $0.events) / max(total - $0.time, 1e-9) } ?? 0
        print("{\"events\":\(events),\"records\":\(records),\"seconds\":\(String(format: "%.2f", total)),"
            + "\"ingest_seconds\":\(String(format: "%.2f", ingestDone ?? total)),"
            + "\"first_detect_commit_seconds\":\(String(format: "%.2f", firstDetect?.time ?? 0)),"
            + "\"events_per_second_overall\":\(Int(Double(events) / max(total, 1e-9))),"
            + "\"events_per_second_after_first_commit\":\(Int(steady)),"
            + "\"cpu_seconds\":\(String(format: "%.2f", cpu)),\"peak_rss_mb\":\(rss / 1024)}")
    }

    /// Sums of each metric family in a Prometheus text exposition at `url` (empty when unreachable),
    /// fetched with curl (as ops/bench/e2e.sh does).
    static func metrics(_ url: String) -> [String: Double] {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sf", "--max-time", "5", url]
        let out = Pipe()
        curl.standardOutput = out
        guard (try? curl.run()) != nil else { return [:] }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        guard curl.terminationStatus == 0 else { return [:] }
        let text = String(decoding: data, as: UTF8.self)
        var sums: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let name = line[..<space].prefix { $0 != "{" && $0 != " " }
            sums[String(name), default: 0] += value
        }
        return sums
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// User + system CPU seconds and peak RSS (KiB) of a process, from /proc.
    static func usage(_ pid: Int32) -> (Double, Int) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var cpu = 0.0, rss = 0
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
            if fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpu = (user + system) / ticks
            }
        }
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            rss = Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return (cpu, rss)
    }
}

/// `vigil-bench latency`: reads the alerts topic from its end and measures, per rule, the time
/// from an alert's event (its `last_seen`, read from the alert's JSON) to its arrival here.
/// Not the record timestamp: Tansu hands records of one batch back with one timestamp, so
/// earlier alerts of a batch looked younger than their events.
/// With `vigil loadgen --rate R` producing events as they happen (event time = send time),
/// that is the pipeline's alert latency.
struct LatencyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Alert latency per rule (event time -> alert read), p50/p99/max, as JSON.")

    @Option(help: "Bootstrap servers (host:port).") var bootstrap: String
    @Option(help: "The alerts topic.") var topic = "vigil.alerts"
    @Option(help: "Listen for this many seconds after joining (at most, with --until-file).") var seconds: Double = 60
    @Option(help: "Stop --grace seconds after this file appears (the script creates it when the traffic has been sent).")
    var untilFile: String?
    @Option(help: "Seconds to go on listening once --until-file appears.") var grace: Double = 10
    @Option(help: "Write this file once the group has joined (the script then starts the traffic).")
    var readyFile: String?
    @Option(help: "This reader's fetch.wait.max.ms. Tansu holds every fetch this long (half of it from 500 ms), data or not, so librdkafka's 500 would add up to 250 ms of the reader's own to each alert.")
    var fetchWaitMs: Int64 = 10
    @Option(help: "Also write every alert measured here: rule, event time (ms since the epoch), latency (ms), one per line.")
    var dump: String?

    func run() async throws {
        var logger = Logger(label: "vigil.bench.latency")
        logger.logLevel = .error
        let joined = JoinFlag()
        let readyFile = self.readyFile
        let hooks = RebalanceHooks(onAssign: { _ in
            joined.set()
            if let readyFile { _ = FileManager.default.createFile(atPath: readyFile, contents: Data()) }
        })
        let settings = ConsumerSettings(client: ClientSettings(bootstrapServers: [bootstrap], clientID: "vigil-bench"),
                                        groupID: "vigil-bench-latency-\(getpid())-\(Int(Date().timeIntervalSince1970))",
                                        autoOffsetReset: .latest, sessionTimeout: .seconds(6),
                                        maxPollInterval: .seconds(7), heartbeatInterval: .seconds(1),
                                        fetchWait: .milliseconds(fetchWaitMs))
        let consumer = try KafkaConsumer(settings: settings, topics: [topic], hooks: hooks, logger: logger)
        let (seconds, untilFile, grace) = (self.seconds, self.untilFile, self.grace)
        let deadline = Task {
            // A group that never joins ends the measurement after --seconds too.
            let joinBy = ContinuousClock.now + .seconds(seconds)
            while !joined.value && ContinuousClock.now < joinBy { try? await Task.sleep(for: .milliseconds(50)) }
            let end = ContinuousClock.now + .seconds(seconds)
            if let untilFile {
                while ContinuousClock.now < end && !FileManager.default.fileExists(atPath: untilFile) {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                try? await Task.sleep(until: min(end, ContinuousClock.now + .seconds(grace)))
            } else {
                try? await Task.sleep(until: end)
            }
        }
        let reader = Task {
            var latencies: [String: [Double]] = [:]
            var lines = ""
            for try await batch in consumer.batches {
                let now = Date().timeIntervalSince1970 * 1000
                for record in batch {
                    guard record.header("vigil-alert-kind").map({ String(decoding: $0, as: UTF8.self) }) == "alert",
                          let rule = record.header("vigil-rule-id").map({ String(decoding: $0, as: UTF8.self) }),
                          let value = record.value, let seen = Self.lastSeen(value)
                    else { continue }
                    let eventMs = Double(seen.seconds) * 1000 + Double(seen.nanoseconds) / 1e6
                    // Alerts of events from before the join (a consumer starting at "latest" on
                    // Tansu re-reads the end of the last batch) are not this measurement's.
                    if eventMs < joined.at { continue }
                    latencies[rule, default: []].append(now - eventMs)
                    if dump != nil { lines += "\(rule) \(Int64(eventMs)) \(Int64(now - eventMs))\n" }
                }
                if Task.isCancelled { break }
            }
            if let dump { try? lines.write(toFile: dump, atomically: true, encoding: .utf8) }
            return latencies
        }
        await deadline.value
        reader.cancel()
        await consumer.close()  // ends `batches` if it is waiting
        let result = (try? await reader.value) ?? [:]
        var parts: [String] = []
        for (rule, values) in result.sorted(by: { $0.key < $1.key }) {
            let sorted = values.sorted()
            func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            parts.append("\"\(rule)\":{\"alerts\":\(sorted.count),\"p50_ms\":\(Int(percentile(0.5))),"
                + "\"p99_ms\":\(Int(percentile(0.99))),\"max_ms\":\(Int(sorted.last ?? 0))}")
        }
        print("{" + parts.joined(separator: ",") + "}")
    }

    /// The `"last_seen":"<RFC 3339>"` member of an alert's JSON line.
    static func lastSeen(_ value: [UInt8]) -> EventTime? {
        let marker = Array("\"last_seen\":\"".utf8)
        guard let start = value.firstRange(of: marker)?.upperBound,
              let end = value[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return EventTime(parsing: String(decoding: value[start..<end], as: UTF8.self))
    }
}

/// Set once, from the consumer's rebalance hook, with the time (ms since the epoch).
final class JoinFlag: Sendable {
    private let time = Mutex<Double?>(nil)
    func set() { time.withLock { $0 = $0 ?? Date().timeIntervalSince1970 * 1000 } }
    var value: Bool { time.withLock { $0 != nil } }
    var at: Double { time.withLock { $0 ?? .infinity } }
}
