import Foundation
import KafkaIO
import Logging
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

/// A real broker (Tansu, through ops/broker.sh) on a loopback port, one per test.
struct TestBroker: Sendable {
    let bootstrap: String
    let state: String

    /// Starts a broker; `port` lets a test pick the port before the broker exists.
    static func start(port: Int? = nil) async throws -> TestBroker {
        let state = FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-broker-\(UUID().uuidString.prefix(8))").path
        var args = ["start", "--state", state]
        if let port { args += ["--port", String(port)] }
        let out = try await runBrokerScript(args)
        return TestBroker(bootstrap: out.trimmingCharacters(in: .whitespacesAndNewlines), state: state)
    }

    func createTopic(_ name: String, partitions: Int, configs: [String: String] = [:]) async throws {
        _ = try await runBrokerScript(["create-topic", bootstrap, name, String(partitions)]
            + configs.map { "\($0.key)=\($0.value)" })
    }

    func stop() async {
        _ = try? await runBrokerScript(["stop", state])
    }
}

/// Runs `body` with a fresh broker and always stops it.
func withBroker<T: Sendable>(port: Int? = nil, _ body: (TestBroker) async throws -> T) async throws -> T {
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

struct ScriptError: Error, CustomStringConvertible {
    var description: String
}

/// Runs ops/broker.sh without blocking a concurrency thread.
func runBrokerScript(_ args: [String]) async throws -> String {
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
func freePort() -> Int {
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
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

let testLogger: Logger = {
    var logger = Logger(label: "vigil.test")
    logger.logLevel = ProcessInfo.processInfo.environment["VIGIL_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

/// Consumer settings tuned for the test broker: its group join takes ~25 s with
/// librdkafka's defaults and ~3 s with these (../shared/DESIGN.md decision 2).
func testConsumerSettings(_ bootstrap: [String], group: String, autoCommit: Duration? = nil,
                          bufferCapacity: Int = 10_000, maxBatchSize: Int = 1_000,
                          properties: [String: String] = [:]) -> ConsumerSettings {
    ConsumerSettings(client: ClientSettings(bootstrapServers: bootstrap, clientID: "vigil-test",
                                            properties: ["topic.metadata.refresh.interval.ms": "1000"]
                                                .merging(properties) { $1 }),
                     groupID: group, sessionTimeout: .seconds(6), maxPollInterval: .seconds(7),
                     heartbeatInterval: .seconds(1), autoCommitInterval: autoCommit,
                     bufferCapacity: bufferCapacity, maxBatchSize: maxBatchSize)
}

func testProducerSettings(_ bootstrap: [String], maxInFlight: Int = 100_000,
                          properties: [String: String] = [:]) -> ProducerSettings {
    ProducerSettings(client: ClientSettings(bootstrapServers: bootstrap, clientID: "vigil-test",
                                            properties: properties),
                     maxInFlight: maxInFlight, deliveryTimeout: .seconds(30), linger: .milliseconds(1))
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

/// Java's `Utils.murmur2` (Kafka's default partitioner), written independently of
/// librdkafka so the test checks librdkafka's murmur2_random against Java's choice.
func javaMurmur2(_ data: [UInt8]) -> Int32 {
    let m: UInt32 = 0x5bd1_e995
    var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: data.count)
    let blocks = data.count / 4
    for i in 0..<blocks {
        let b = i * 4
        var k = UInt32(data[b]) | UInt32(data[b + 1]) << 8 | UInt32(data[b + 2]) << 16 | UInt32(data[b + 3]) << 24
        k = k &* m
        k ^= k >> 24
        k = k &* m
        h = h &* m
        h ^= k
    }
    let tail = blocks * 4
    switch data.count % 4 {
    case 3:
        h ^= UInt32(data[tail + 2]) << 16
        fallthrough
    case 2:
        h ^= UInt32(data[tail + 1]) << 8
        fallthrough
    case 1:
        h ^= UInt32(data[tail])
        h = h &* m
    default:
        break
    }
    h ^= h >> 13
    h = h &* m
    h ^= h >> 15
    return Int32(bitPattern: h)
}

func javaPartition(_ key: [UInt8], partitions: Int32) -> Int32 {
    (javaMurmur2(key) & 0x7fff_ffff) % partitions
}

/// A value shared with child tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
