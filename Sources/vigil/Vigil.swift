import ArgumentParser
import KafkaIO

@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Streaming detections over Kubernetes audit logs, on Kafka.",
        version: "vigil \(VigilVersion.string) (librdkafka \(librdkafkaVersion))",
        subcommands: [DecodeCommand.self, GeoCommand.self, TorCommand.self, RulesCommand.self, ReplayCommand.self]
            + [LoadgenCommand.self, BenchCommand.self]
            + [ValidateCommand.self, RunCommand.self, ProduceCommand.self, ConsumeCommand.self, OffsetsCommand.self]
    )
}

enum VigilVersion {
    static let string = "0.1.0-dev"
}
