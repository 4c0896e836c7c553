import ArgumentParser

/// Benchmarks that print numbers (never timed tests). Each subcommand lives in
/// its own file; results are recorded under ops/bench/ with the machine and date.
@main
struct VigilBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-bench",
        abstract: "Vigil's benchmarks: throughput and allocation numbers, printed.",
        subcommands: [KafkaBench.self, DecodeBench.self, GeoBench.self, RulesBench.self, ChangelogBench.self]
            + [DrainBench.self, LatencyBench.self]
    )
}
