import ArgumentParser
import Dispatch
import Foundation
import Logging
import Runtime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `vigil run --topology FILE --stage ingest|detect|all`: the streaming stages.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run Vigil's streaming stages over Kafka, as the topology file says.",
        discussion: """
            ingest: read the raw topics (group kafka.groups.ingest), decode, enrich, produce to the \
            repartition topic keyed by source IP; undecodable records go to the dead-letter topic. \
            detect: evaluate the rules (not yet implemented). all: both (not yet implemented). \
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
        guard stage == .ingest else {
            Self.stderr("vigil run: --stage \(stage.rawValue) is not yet implemented (the detect stage arrives "
                + "with the detection engine); run --stage ingest")
            throw ExitCode(2)
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel)")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vigil.run")
        let loaded: (Topology, Int)
        do {
            let (t, rules) = try TopologyLoader.load(file: topology, bootstrap: bootstrap.map(Self.servers))
            loaded = (t, rules.count)
        } catch {
            for problem in error.problems { Self.stderr(problem.message) }
            Self.stderr(error.problems.isEmpty ? "vigil run: \(error)" : "\(topology): \(error.problems.count) problem(s)")
            throw ExitCode(1)
        }
        let ingest: IngestStage
        do {
            ingest = try IngestStage(topology: loaded.0, logger: logger)
        } catch {
            Self.stderr("vigil run: \(error)")
            throw ExitCode(1)
        }
        let task = Task { () async -> RuntimeError? in
            do throws(RuntimeError) {
                try await ingest.run()
                return nil
            } catch {
                return error
            }
        }
        let signals = Self.onTerminationSignals(logger: logger) { task.cancel() }
        let failure = await task.value
        signals.forEach { $0.cancel() }
        let s = ingest.statistics
        Self.stderr("ingest: \(s.records) records, \(s.eventsAcknowledged) events repartitioned, "
            + "\(s.deadLettersAcknowledged) dead-lettered, \(s.skipped) skipped")
        if let failure {
            Self.stderr("vigil run: \(failure)")
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
                    Self.stderr("vigil run: second signal, exiting now (uncommitted input is read again on restart)")
                    Glibc.exit(130)
                }
            }
            source.resume()
            return source
        }
    }

    static func servers(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func stderr(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Signals received so far (signal handlers run on a dispatch queue).
private final class SignalCount: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
