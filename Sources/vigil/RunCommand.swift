import ArgumentParser
import Detection
import Dispatch
import Foundation
import Logging
import Metrics
import Observability
import Runtime
import ServiceLifecycle
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
            HTTP (observability.listen, default 0.0.0.0:9464): GET /metrics (Prometheus), /health \
            (200 while the stages are alive, 503 when one failed or is stuck), /ready (200 once every \
            stage has its assignment restored and is processing). It is up before the stages start \
            and closes after they stopped. \
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

    @Option(name: .long, help: "Log lines as text (default) or json (one object per line: time, level, label, message, metadata, source).")
    var logFormat: Console.LogFormat = .text

    @Option(name: .long, help: "Override observability.listen: HOST:PORT for /metrics, /health, /ready (port 0: any free port, logged).")
    var httpListen: String?

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel)")
        }
        let listenOverride = try httpListen.map { text in
            guard let address = Topology.ListenAddress(text) else {
                throw ValidationError("--http-listen must be HOST:PORT (port 0...65535; [v6]:PORT for IPv6), not '\(text)'")
            }
            return address
        }
        let logger = Console.logger("vigil.run", level: level, format: logFormat)
        // Before anything makes a metric (a metric made earlier would count nowhere).
        let registry = PrometheusBootstrap.bootstrap()
        Gauge(label: "vigil_build_info", dimensions: [("version", VigilVersion.string)]).record(1)
        let loaded: (Topology, [Rule])
        do {
            loaded = try TopologyLoader.load(file: topology, bootstrap: bootstrap.map(Self.servers))
        } catch {
            for problem in error.problems { Console.error(problem.message) }
            Console.error(error.problems.isEmpty ? "vigil run: \(error)" : "\(topology): \(error.problems.count) problem(s)")
            throw ExitCode(1)
        }
        var topology = loaded.0
        let rules = loaded.1
        if let listenOverride { topology.observability.listen = listenOverride }
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
        let stages = StagesService(ingest: ingest, detect: detect)
        // Ordered start and stop: the HTTP listener is bound first (so /health answers while
        // state is restored, and a taken port fails here, before any connection), the stages
        // run, and a shutdown stops the stages before the listener (ServiceGroup stops its
        // services in reverse order).
        let address = topology.observability.listen
        let server: ObservabilityServer
        do {
            server = try await ObservabilityServer.bind(host: address.host, port: address.port,
                                                        endpoints: stages.endpoints(registry: registry), logger: logger)
        } catch {
            Console.error("vigil run: cannot listen on \(address) (observability.listen): \(error)")
            throw ExitCode(1)
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [
            .init(service: server),
            .init(service: stages, successTerminationBehavior: .gracefullyShutdownGroup),
        ], logger: logger))
        let signals = Self.onTerminationSignals(logger: logger) { Task { await group.triggerGracefulShutdown() } }
        let hangUp = Self.onHangUp(logger: logger) { [ingest, detect] in
            _ = await ingest?.reload()
            await detect?.reloadRules()
        }
        do {
            try await group.run()
        } catch {
            logger.error("vigil run: service group failed", metadata: ["error": "\(error)"])
        }
        (signals + [hangUp]).forEach { $0.cancel() }
        let failure = stages.failure
        // The closing summary: plain lines for a person, log records when every line must be JSON.
        let json = logFormat == .json
        func say(_ line: String) {
            if json { logger.notice("\(line)") } else { Console.error(line) }
        }
        if let s = ingest?.statistics {
            say("ingest: \(s.records) records, \(s.eventsAcknowledged) events repartitioned, "
                + "\(s.deadLettersAcknowledged) dead-lettered, \(s.skipped) skipped")
        }
        if let s = detect?.statistics {
            say("detect: \(s.records) events (\(s.duplicates) already in state, skipped), \(s.alertsAcknowledged) alerts produced, "
                + "\(s.undecodable) undecodable")
        }
        if let failure {
            say("vigil run: \(failure)")
            throw ExitCode(1)
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
