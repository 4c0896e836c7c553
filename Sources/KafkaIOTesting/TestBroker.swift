import Foundation
import KafkaIO
import Logging
import Synchronization

// What tests of Kafka-using code share: a real broker (Tansu, through ops/broker.sh)
// on a loopback port, settings tuned for it, and small waiting helpers.

/// The repository root, found from this file's path.
public let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}()

/// A file or folder of the repository, by its path from the root.
public func repositoryPath(_ relative: String) -> String {
    repositoryRoot.appendingPathComponent(relative).path
}

/// The EKS fixture event (Tests/RuntimeTests/Fixtures/eks-event.jsonl: a 403 from the public IP
/// 176.95.188.101) `second` seconds after 2023-12-07T14:45:00Z, with audit id `auditID`, from
/// `ip` when given: ten of one IP within 30 minutes fire both 403 threshold rules.
public func eksDenial(second: Int, auditID: String, ip: String? = nil) throws -> String {
    let text = try String(contentsOfFile: repositoryPath("Tests/RuntimeTests/Fixtures/eks-event.jsonl"), encoding: .utf8)
    guard let line = text.split(separator: "\n").first.map(String.init) else {
        throw ScriptError(description: "eks-event.jsonl is empty")
    }
    let event = line.replacingOccurrences(of: "582c31ab-4906-49bb-9ff9-872f980ccb84", with: auditID)
        .replacingOccurrences(of: "2023-12-07T14:44:53.358394Z", with: String(format: "2023-12-07T14:45:%02d.000000Z", second))
    return ip.map { event.replacingOccurrences(of: "176.95.188.101", with: $0) } ?? event
}

/// A real broker (Tansu, through ops/broker.sh) on a loopback port, one per test.
public struct TestBroker: Sendable {
    public let bootstrap: String
    public let state: String

    /// Starts a broker; `port` lets a test pick the port before the broker exists.
    public static func start(port: Int? = nil) async throws -> TestBroker {
        let state = FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-broker-\(UUID().uuidString.prefix(8))").path
        var args = ["start", "--state", state]
        if let port { args += ["--port", String(port)] }
        let out = try await runBrokerScript(args)
        return TestBroker(bootstrap: out.trimmingCharacters(in: .whitespacesAndNewlines), state: state)
    }

    public func createTopic(_ name: String, partitions: Int, configs: [String: String] = [:]) async throws {
        _ = try await runBrokerScript(["create-topic", bootstrap, name, String(partitions)]
            + configs.map { "\($0.key)=\($0.value)" })
    }

    public func stop() async {
        _ = try? await runBrokerScript(["stop", state])
    }

    /// The loopback port it listens on.
    public var port: Int { Int(bootstrap.split(separator: ":").last ?? "") ?? 0 }

    /// Stops this broker, waits `pause`, and starts a new one on the same port: clients see the
    /// broker go away and come back. Tansu keeps its data in memory: the new one has no topics,
    /// records, groups or producer ids.
    public func restart(after pause: Duration) async throws -> TestBroker {
        await stop()
        try await Task.sleep(for: pause)
        return try await TestBroker.start(port: port)
    }
}

/// Runs `body` with a fresh broker and always stops it.
public func withBroker<T: Sendable>(port: Int? = nil, _ body: (TestBroker) async throws -> T) async throws -> T {
    let broker = try await TestBroker.start(port: port)
    do {
        let result = try await body(broker)
        await broker.stop()
        return result
    } catch {
        await broker.stop()
        throw error
    }
}

public struct ScriptError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs ops/broker.sh without blocking a concurrency thread.
public func runBrokerScript(_ args: [String]) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [repositoryRoot.appendingPathComponent("ops/broker.sh").path] + args
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

/// A free loopback port (closed again at once).
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Unique names per test: tests run in parallel.
public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// Warnings and worse, or the level in `VIGIL_TEST_LOG`.
public let testLogger: Logger = {
    var logger = Logger(label: "vigil.test")
    logger.logLevel = ProcessInfo.processInfo.environment["VIGIL_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

/// Consumer settings tuned for the test broker: its group join takes ~25 s with
/// librdkafka's defaults and ~3 s with these (../shared/DESIGN.md decision 2).
public func testConsumerSettings(_ bootstrap: [String], group: String, autoCommit: Duration? = nil,
                                 bufferCapacity: Int = 10_000, maxBatchSize: Int = 1_000,
                                 properties: [String: String] = [:]) -> ConsumerSettings {
    ConsumerSettings(client: ClientSettings(bootstrapServers: bootstrap, clientID: "vigil-test",
                                            properties: ["topic.metadata.refresh.interval.ms": "1000"]
                                                .merging(properties) { $1 }),
                     groupID: group, sessionTimeout: .seconds(6), maxPollInterval: .seconds(7),
                     heartbeatInterval: .seconds(1), autoCommitInterval: autoCommit,
                     bufferCapacity: bufferCapacity, maxBatchSize: maxBatchSize)
}

public func testProducerSettings(_ bootstrap: [String], maxInFlight: Int = 100_000,
                                 properties: [String: String] = [:]) -> ProducerSettings {
    ProducerSettings(client: ClientSettings(bootstrapServers: bootstrap, clientID: "vigil-test",
                                            properties: properties),
                     maxInFlight: maxInFlight, deliveryTimeout: .seconds(30), linger: .milliseconds(1))
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

/// Reads records until `count` have arrived or `timeout` passes; returns what arrived.
public func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30)) async throws -> [ConsumerRecord] {
    try await collect(consumer, timeout: timeout) { $0.count >= count }
}

/// Reads records until `done` says the records so far are enough, or `timeout` passes;
/// returns what arrived.
public func collect(_ consumer: KafkaConsumer, timeout: Duration = .seconds(30),
                    until done: @escaping @Sendable ([ConsumerRecord]) -> Bool) async throws -> [ConsumerRecord] {
    let received = Shared<[ConsumerRecord]>([])
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for try await batch in consumer.batches {
                let enough = received.withLock { $0 += batch; return done($0) }
                if enough { break }
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

/// A value shared with child tasks.
public final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    public func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
