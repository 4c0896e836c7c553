import ArgumentParser
import Foundation
import Runtime

/// `vigil validate --topology FILE`: every problem in a topology file and in what it points
/// at (rules folder, GeoIP file, Tor source file, Kafka settings), before anything connects.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a topology file, its rules, enrichment files and Kafka settings without connecting.",
        discussion: """
            Lists every problem as FILE:LINE:COLUMN: detail, with the line and a caret under the \
            offending text, on stderr. Exit status 1 when there is any problem.
            """)

    @Option(name: .long, help: "The topology file.")
    var topology: String = "topology/vigil.yaml"

    @Option(name: .long, help: "Override kafka.bootstrap (host:port[,host:port...]).")
    var bootstrap: String?

    func run() throws {
        let outcome = TopologyLoader.check(file: topology, bootstrap: bootstrap.map(RunCommand.servers))
        for problem in outcome.problems { Console.error(problem.message) }
        guard outcome.problems.isEmpty, let t = outcome.topology else {
            Console.error("\(topology): \(outcome.problems.count) problem(s)")
            throw ExitCode(1)
        }
        print("\(topology): OK — \(t.sources.count) source topic(s) (\(t.sources.map(\.topic).joined(separator: ", "))), "
            + "\(outcome.rules.count) rule(s) in \(t.rulesDirectory), bootstrap \(t.kafka.bootstrapServers.joined(separator: ","))")
    }
}
