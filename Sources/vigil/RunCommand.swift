import ArgumentParser
import Detection
import Dispatch
import Foundation
import Logging
import Runtime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `vigil run --topology FILE [--stage ingest|detect|all]`: the streaming stages.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run Vigil's streaming stages over Kafka, as the topology file says.",
        discussion: """
            ingest: read the raw topics (group kafka.groups.ingest), decode, enrich, produce to the \
            repartition topic keyed by source IP; undecodable records go to the dead-letter topic. \
            detect: read the repartition topic (group kafka.groups.detect), evaluate the rules on \
            event time, produce alerts (JSON lines) to the alerts topic keyed by rule and group key; \
            rule state is kept in the changelog topic. all (default): both stages in \
            this process. \
            Rule files, the GeoIP file and the Tor list reload when they change (rules.reload_check, \
            enrichment.geoip.reload_check, enrichment.tor.interval) or on SIGHUP; a rule set with \
            problems is refused (each logged with file:line) and the rules in force keep running. \
            SIGINT or SIGTERM stops fetching, flushes, commits and leaves the group (bounded by \
            limits.shutdown_timeout); a second signal exits at once.
            """)

    enum Stage: String, ExpressibleByArgument, CaseIterable {
        case ingest, detect, all
    }

    @Option(name: .long, help: "The topology file.")
    var topology: String = "topology/vigil.yaml"

    @Option(name: .long, help: "Which stage: ingest, detect or all.")
    var stage: Stage = .all

    @Option(name: .long, help: "Override kafka.bootstrap (host:port[,host:port...]).")
    var bootstrap: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel)")
        }
        let logger = Console.logger("vigil.run", level: level)
        let loaded: (Topology, [Rule])
        do {
            loaded = try TopologyLoader.load(file: topology, bootstrap: bootstrap.map(Self.servers))
        } catch {
            for problem in error.problems { Console.error(problem.message) }
            Console.error(error.problems.isEmpty ? "vigil run: \(error)" : "\(topology): \(error.problems.count) problem(s)")
            throw ExitCode(1)
        }
        let (topology, rules) = loaded
        var ingest: IngestStage?
        if stage != .detect {
            do {
                ingest = try IngestStage(topology: topology, logger: logger)
            } catch {
                Console.error("vigil run: \(error)")
                throw ExitCode(1)
            }
        }
        let detect = stage == .ingest ? nil : DetectStage(topology: topology, rules: rules, logger: logger)
        let task = Task { [ingest, detect] () async -> RuntimeError? in
            await withTaskGroup(of: RuntimeError?.self) { group in
                if let ingest { group.addTask { await Self.outcome { () throws(RuntimeError) in try await ingest.run() } } }
                if let detect { group.addTask { await Self.outcome { () throws(RuntimeError) in try await detect.run() } } }
                var first: RuntimeError?
                for await failure in group {
                    // One stage failed: stop the other one too.
                    if let failure, first == nil {
                        first = failure
                        group.cancelAll()
                    }
                }
                return first
            }
        }
        let signals = Self.onTerminationSignals(logger: logger) { task.cancel() }
        let hangUp = Self.onHangUp(logger: logger) { [ingest, detect] in
            _ = await ingest?.reload()
            await detect?.reloadRules()
        }
        let failure = await task.value
        (signals + [hangUp]).forEach { $0.cancel() }
        if let s = ingest?.statistics {
            Console.error("ingest: \(s.records) records, \(s.eventsAcknowledged) events repartitioned, "
                + "\(s.deadLettersAcknowledged) dead-lettered, \(s.skipped) skipped")
        }
        if let s = detect?.statistics {
            Console.error("detect: \(s.records) events, \(s.alertsAcknowledged) alerts produced, \(s.undecodable) undecodable")
        }
        if let failure {
            Console.error("vigil run: \(failure)")
            throw ExitCode(1)
        }
    }

    static func outcome(_ body: () async throws(RuntimeError) -> Void) async -> RuntimeError? {
        do {
            try await body()
            return nil
        } catch {
            return error
        }
    }

    /// SIGINT/SIGTERM: the first calls `stop`, a second exits at once.
    static func onTerminationSignals(logger: Logger, _ stop: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
        let count = SignalCount()
        return [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if count.increment() == 1 {
                    logger.notice("stopping: finishing in-flight records, committing, leaving the group",
                                  metadata: ["signal": "\(number)"])
                    stop()
                } else {
                    Console.error("vigil run: second signal, exiting now (uncommitted input is read again on restart)")
                    Glibc.exit(130)
                }
            }
            source.resume()
            return source
        }
    }

    /// SIGHUP: reload the rules folder, the GeoIP file and the Tor list now (one reload at a time).
    static func onHangUp(logger: Logger, _ reload: @escaping @Sendable () async -> Void) -> DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            logger.notice("SIGHUP: reloading rules, GeoIP database and Tor list")
            Task { await reload() }
        }
        source.resume()
        return source
    }

    static func servers(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

}

/// Signals received so far (signal handlers run on a dispatch queue).
private final class SignalCount: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
