import Foundation
import Testing

/// `vigil-fuzz` (ops/fuzz/run.sh) in its plain build: the checks its targets make on every
/// input hold on their seeds, the repository's own inputs. Among them: every fixture record
/// that decodes goes through the repartition encoding and back (as ingest writes it and detect
/// reads it) and renders the same, and each seed rule's condition evaluates alike compiled
/// for events and planned for any context.
@Suite struct FuzzSeedTests {
    static let fuzzBinary = vigilBinary.deletingLastPathComponent().appendingPathComponent("vigil-fuzz").path

    @Test func everyFuzzTargetPassesItsSeeds() async throws {
        let dir = try temporaryFolder("vigil-fuzz-seeds")
        defer { try? FileManager.default.removeItem(at: dir) }
        let seeds = try await runTool(Self.fuzzBinary, ["seeds", dir.path])
        #expect(seeds.status == 0, "\(seeds.output)")
        for target in ["decode", "repartition", "condition", "rule", "topology", "tor"] {
            let inputs = (try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/" + target)) ?? []
            #expect(inputs.count >= (target == "topology" ? 2 : 4), "\(target): \(seeds.output)")
            let run = try await runTool(Self.fuzzBinary, [target, dir.path + "/" + target])
            #expect(run.status == 0 && run.output.contains("\(inputs.count) input(s), no failure"),
                    "\(target): exit \(run.status): \(run.output.suffix(2000))")
        }
    }

    @Test func anUnknownTargetIsAUsageError() async throws {
        let run = try await runTool(Self.fuzzBinary, ["nothing", "/dev/null"])
        #expect(run.status == 64, "\(run.output)")
        #expect(run.output.contains("usage: vigil-fuzz decode|repartition|condition|rule|topology|tor"))
    }
}
