import Foundation
import Testing

/// The built `vigil` binary, next to the test bundle (`swift build --build-tests` builds both).
let vigilBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil")

/// Runs the binary as a user would, without the test's environment tweaks.
func runVigil(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    var environment = ProcessInfo.processInfo.environment
    environment["LD_LIBRARY_PATH"] = nil // the binary must find librdkafka through its rpath
    return try await runTool(vigilBinary.path, arguments, environment: environment)
}

/// Runs the binary for its standard output alone (errors dropped): output that must parse,
/// which stderr lines written in between could split.
func runVigilForOutput(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    var environment = ProcessInfo.processInfo.environment
    environment["LD_LIBRARY_PATH"] = nil
    return try await runTool("/bin/bash", ["-c", "exec \"$@\" 2>/dev/null", "vigil", vigilBinary.path] + arguments,
                             environment: environment)
}

/// Runs a program to its end; standard output and error together.
func runTool(_ path: String, _ arguments: [String],
             environment: [String: String]? = nil) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    // Read while it runs: a program that writes more than the pipe holds (64 KiB) would
    // otherwise wait for a reader that waits for it to end.
    let output = Task {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile()) }
        }
    }
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            try? pipe.fileHandleForWriting.close()  // the reader sees the end
            continuation.resume(throwing: error)
        }
    }
    return (status, String(decoding: await output.value, as: UTF8.self))
}

@Suite struct VersionCommandTests {
    @Test func versionNamesVigilAndALibrdkafkaThatTalksToModernBrokers() async throws {
        let (status, output) = try await runVigil(["--version"])
        #expect(status == 0, "\(output)")
        let version = output.split(separator: "librdkafka ").last.map { $0.prefix { $0 != ")" } } ?? ""
        let parts = version.split(separator: ".").compactMap { Int($0) }
        #expect(output.hasPrefix("vigil "))
        #expect(parts.count >= 2 && (parts[0] > 2 || (parts[0] == 2 && parts[1] >= 1)), "\(output)")
    }

    @Test func helpListsTheSubcommands() async throws {
        let (status, output) = try await runVigil(["--help"])
        #expect(status == 0)
        #expect(output.contains("USAGE: vigil"))
        #expect(output.contains("SUBCOMMANDS"))
    }
}
