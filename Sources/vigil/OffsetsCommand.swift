import ArgumentParser
import AuditEvents
import Foundation
import KafkaIO
import Runtime

/// `vigil offsets show|reset`: a stage's consumer-group offsets, read or moved (replays).
struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Show or reset a stage's consumer-group offsets (to replay a time range).",
        discussion: """
            The group and its topics come from the topology: ingest is kafka.groups.ingest over \
            the raw topics (sources), detect is kafka.groups.detect over the repartition topic. \
            --group and --topic name others. A reset commits from outside the group, so every \
            member must be stopped first (scale the stage to zero); the broker refuses otherwise. \
            ops/runbook.md, "Replay a time range", says what a reset means for alerts.
            """,
        subcommands: [Show.self, Reset.self])

    struct Target: ParsableArguments {
        @Option(help: "The topology file.")
        var topology: String = "topology/vigil.yaml"

        @Option(help: "Whose group: ingest or detect.")
        var stage: Stage = .ingest

        @Option(help: "Override kafka.bootstrap (host:port[,host:port...]).")
        var bootstrap: String?

        @Option(help: "Another group than the stage's.")
        var group: String?

        @Option(help: "Other topics than the stage's (repeatable).")
        var topic: [String] = []

        enum Stage: String, ExpressibleByArgument, CaseIterable { case ingest, detect }

        /// The group's client and its topics; topology problems printed.
        func resolve() throws -> (KafkaGroupOffsets, [String]) {
            let topology: Topology
            do {
                topology = try TopologyLoader.load(file: self.topology, bootstrap: bootstrap.map(RunCommand.servers)).0
            } catch {
                for problem in error.problems { Console.error(problem.message) }
                Console.error(error.problems.isEmpty ? "vigil offsets: \(error)" : "\(self.topology): \(error.problems.count) problem(s)")
                throw ExitCode(1)
            }
            let group = group ?? (stage == .ingest ? topology.kafka.ingestGroup : topology.kafka.detectGroup)
            let topics = !topic.isEmpty ? topic
                : stage == .ingest ? topology.sources.map(\.topic) : [topology.topics.repartition.name]
            do {
                return (try KafkaGroupOffsets(settings: topology.clientSettings, group: group,
                                              logger: Console.logger("vigil.offsets", level: .warning)), topics)
            } catch {
                Console.error("vigil offsets: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the group's committed offset for each partition of its topics.")

        @OptionGroup var target: Target

        func run() async throws {
            let (offsets, topics) = try target.resolve()
            do {
                let committed = try await offsets.committed(topics: topics)
                for (tp, offset) in committed.sorted(by: { $0.key < $1.key }) {
                    print("\(offsets.group) \(tp) \(offset.map(String.init) ?? "none")")
                }
            } catch {
                Console.error("vigil offsets show: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the group's offsets to earliest, latest or a time, then print them.",
            discussion: """
                --to earliest (each partition's log start), latest (its end: skip what is \
                there), or an RFC 3339 time such as 2026-11-22T08:00:00Z (the first record \
                with a timestamp at or after it; the end where none is that recent). \
                --dry-run prints the change without committing it.
                """)

        @OptionGroup var target: Target

        @Option(help: "earliest, latest or an RFC 3339 time.")
        var to: String

        @Flag(help: "Print what would change; commit nothing.")
        var dryRun = false

        func run() async throws {
            guard let position = Self.position(to) else {
                throw ValidationError("--to must be earliest, latest or an RFC 3339 time like 2026-11-22T08:00:00Z, not '\(to)'")
            }
            let (offsets, topics) = try target.resolve()
            do {
                let changes = try await offsets.reset(topics: topics, to: position, dryRun: dryRun)
                for change in changes {
                    print("\(offsets.group) \(change.partition) \(change.before.map(String.init) ?? "none") -> \(change.after)")
                }
                Console.error(dryRun ? "dry run: nothing committed" : "\(offsets.group): \(changes.count) partition(s) reset to \(to)")
            } catch {
                Console.error("vigil offsets reset: \(error)")
                throw ExitCode(1)
            }
        }

        static func position(_ text: String) -> OffsetResetTarget? {
            switch text {
            case "earliest": return .earliest
            case "latest": return .latest
            default:
                // RFC 3339 (AuditEvents' parser, the one the decoders use).
                return EventTime(parsing: text).map { .time(milliseconds: $0.milliseconds) }
            }
        }
    }
}
