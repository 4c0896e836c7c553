import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import Logging
import Runtime
import Synchronization

/// The repository root, found from this file's path.
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}()

func repositoryPath(_ relative: String) -> String {
    repositoryRoot.appendingPathComponent(relative).path
}

/// The lines of a fixture file (blank lines dropped).
func fixtureLines(_ name: String) throws -> [String] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
    return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
}

/// A fresh temporary folder.
func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-runtime-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

/// A real broker (Tansu, through ops/broker.sh) on a loopback port, as KafkaIOTests start it.
struct TestBroker: Sendable {
    let bootstrap: String
    let state: String

    static func start() async throws -> TestBroker {
        let state = FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-broker-\(UUID().uuidString.prefix(8))").path
        let out = try await runBrokerScript(["start", "--state", state])
        return TestBroker(bootstrap: out.trimmingCharacters(in: .whitespacesAndNewlines), state: state)
    }

    func createTopic(_ name: String, partitions: Int) async throws {
        _ = try await runBrokerScript(["create-topic", bootstrap, name, String(partitions)])
    }

    func stop() async {
        _ = try? await runBrokerScript(["stop", state])
    }
}

/// Runs `body` with a fresh broker and always stops it.
func withBroker<T: Sendable>(_ body: (TestBroker) async throws -> T) async throws -> T {
    let broker = try await TestBroker.start()
    do {
        let result = try await body(broker)
        await broker.stop()
        return result
    } catch {
        await broker.stop()
        throw error
    }
}

struct ScriptError: Error, CustomStringConvertible {
    var description: String
}

/// Runs ops/broker.sh without blocking a concurrency thread.
func runBrokerScript(_ args: [String]) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [repositoryPath("ops/broker.sh")] + args
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    guard status == 0 else { throw ScriptError(description: "broker.sh \(args.joined(separator: " ")): \(status)\n\(err)") }
    return out
}

/// Unique names per test: tests run in parallel.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

let testLogger: Logger = {
    var logger = Logger(label: "vigil.test")
    logger.logLevel = ProcessInfo.processInfo.environment["VIGIL_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

/// Consumer settings tuned for the test broker (group join ~3 s; DESIGN.md decision 2).
func testConsumerSettings(_ bootstrap: String, group: String) -> ConsumerSettings {
    ConsumerSettings(client: ClientSettings(bootstrapServers: [bootstrap], clientID: "vigil-test",
                                            properties: ["topic.metadata.refresh.interval.ms": "1000"]),
                     groupID: group, sessionTimeout: .seconds(6), maxPollInterval: .seconds(7),
                     heartbeatInterval: .seconds(1), autoCommitInterval: nil)
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

/// Reads records until `count` have arrived or `timeout` passes; returns what arrived.
func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30)) async throws -> [ConsumerRecord] {
    let received = Shared<[ConsumerRecord]>([])
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for try await batch in consumer.batches {
                let total = received.withLock { $0 += batch; return $0.count }
                if total >= count { break }
            }
        }
        group.addTask {
            try await Task.sleep(for: timeout)
        }
        try await group.next()
        group.cancelAll()
    }
    return received.withLock { $0 }
}

/// What a group member reads once it has joined: waits up to `join` for the first record,
/// then `settle` more for anything after it (a re-read after a bad commit would show there).
func readAfterJoin(_ consumer: KafkaConsumer, join: Duration = .seconds(30),
                   settle: Duration = .seconds(3)) async throws -> [ConsumerRecord] {
    let first = try await collect(consumer, count: 1, timeout: join)
    guard !first.isEmpty else { return [] }
    return first + (try await collect(consumer, count: 10_000, timeout: settle))
}

/// A value shared with child tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// One uninterrupted engine over raw lines, enriched as ingest does: the alerts a run of the
/// stages must reproduce (same ids).
struct ReferenceRun {
    var engine: DetectionEngine
    let enricher: Enricher

    init(_ topology: Topology, rules: [Rule]) async throws {
        enricher = try await IngestStageTests.enricher(topology)
        engine = DetectionEngine(rules: rules, settings: EngineSettings(allowedLateness: 600,
                                                                        maxKeysPerRule: topology.limits.maxKeysPerRule))
    }

    /// The alerts the raw line at (topic, partition, offset) completes.
    mutating func process(_ line: String, decoder: AuditRecordDecoder, topic: String, partition: Int32, offset: Int64) -> [Alert] {
        var alerts: [Alert] = []
        for event in decoder.decode(line).compactMap(\.event) {
            let enrichment = enricher.enrich(sourceIPs: event.sourceIPs, at: event.time.map {
                Date(timeIntervalSince1970: Double($0.seconds) + Double($0.nanoseconds) / 1e9)
            })
            alerts += engine.process(event, enrichment: enrichment, origin: .kafka(topic: topic, partition: partition, offset: offset))
        }
        return alerts
    }
}
