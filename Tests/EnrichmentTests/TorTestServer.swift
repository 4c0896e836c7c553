import Foundation
import Synchronization
@testable import Enrichment

/// Fixtures/tor_server.py on 127.0.0.1, scripted through a JSON file the test
/// rewrites; every request it gets is logged for the test to read.
final class TorTestServer: Sendable {
    let port: Int
    private let process: Process
    private let directory: URL
    private let generation = Mutex(0)

    var url: String { "http://127.0.0.1:\(port)/torbulkexitlist" }
    private var scriptPath: String { directory.appendingPathComponent("script.json").path }
    private var logPath: String { directory.appendingPathComponent("requests.jsonl").path }

    struct Request: Decodable, Sendable {
        let path: String
        let if_none_match: String?
        let if_modified_since: String?
    }

    init(_ responses: [[String: any Sendable]]) throws {
        directory = try Fixtures.temporaryDirectory()
        process = Process()
        try Self.write(responses, generation: 0, to: directory.appendingPathComponent("script.json").path)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixtures.path("tor_server.py"),
                             directory.appendingPathComponent("script.json").path,
                             directory.appendingPathComponent("requests.jsonl").path]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = Pipe()  // closed when this process ends: the server exits
        try process.run()
        // The first line is the port.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw EnrichmentError(.invalidConfiguration, "tor_server.py did not start")
        }
        self.port = port
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Replaces the script; the sequence restarts.
    func play(_ responses: [[String: any Sendable]]) throws {
        let next = generation.withLock { $0 += 1; return $0 }
        try Self.write(responses, generation: next, to: scriptPath)
    }

    var requests: [Request] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONDecoder().decode(Request.self, from: Data($0.utf8))
        }
    }

    private static func write(_ responses: [[String: any Sendable]], generation: Int, to path: String) throws {
        let object: [String: Any] = ["generation": generation, "responses": responses]
        let data = try JSONSerialization.data(withJSONObject: object)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// A settable clock for the refresher.
final class TestClock: Sendable {
    private let time: Mutex<Date>
    init(_ start: Date) { time = Mutex(start) }
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    func set(_ date: Date) { time.withLock { $0 = date } }
}

/// Polls `condition` until it holds or `seconds` pass: generous, because the suite runs
/// CPU-heavy tests on the same cooperative threads, and a check starved of a thread is not a
/// failure of the code under test (a passing run returns as soon as the condition holds).
func eventually(seconds: Double = 120, _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}
