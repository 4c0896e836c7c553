import Foundation
import KafkaIOTesting
import Testing

/// `vigil validate` and the parts of `vigil run` that need no broker, run as a user runs them.
@Suite struct TopologyCommandTests {
    @Test func validateAcceptsTheDefaultTopology() async throws {
        let (status, output) = try await runVigil(["validate", "--topology", repositoryPath("topology/vigil.yaml")])
        #expect(status == 0, "\(output)")
        #expect(output.contains("OK") && output.contains("5 rule(s)"), "\(output)")
    }

    @Test func validateListsEveryProblemWithPositionsAndFails() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-validate-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/t.yaml"
        try """
            kafka:
              bootstrap: 127.0.0.1:9092
              linger: soon
            sources:
              - {topic: raw, format: nope}
            rules: \(repositoryPath("topology/rules"))
            topics:
              repartition: {name: r, partitions: 0}
              alerts: {name: a, partitions: 1}
              dead_letter: {name: d, partitions: 1}
              changelog: {name: c, partitions: 1}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try await runVigil(["validate", "--topology", file])
        #expect(status == 1)
        #expect(output.contains("\(file):3:11: kafka.linger must be a duration"), "\(output)")
        #expect(output.contains("\(file):5:26: unknown format 'nope'"), "\(output)")
        #expect(output.contains("\(file):8:38: topics.repartition.partitions must be in 1...10000"), "\(output)")
        #expect(output.contains("3 problem(s)"), "\(output)")
    }

    @Test func runRefusesABrokenTopologyBeforeConnecting() async throws {
        let (status, output) = try await runVigil(["run", "--topology", "/nonexistent/topology.yaml"])
        #expect(status == 1)
        #expect(output.contains("/nonexistent/topology.yaml:1:1: cannot read the topology file"), "\(output)")
    }
}
