import Foundation
import KafkaIO
import KafkaIOTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Integration tests of `vigil run` as processes against the real broker: what the tests share.

/// The built `vigil` binary, next to the test bundle (`swift build --build-tests` builds both).
let vigilBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil")


/// A fresh temporary folder.
func temporaryFolder(_ prefix: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// One `vigil` process, its standard output and error in a log file.
final class VigilProcess: Sendable {
    let log: String
    private let process: Process
    private let exit = Shared<Int32?>(nil)

    /// Starts `vigil arguments...` (with an empty signal mask: a test process may block SIGTERM,
    /// which a child would inherit).
    /// `stdout`: a file of its own for standard output (else it goes to the log).
    init(_ arguments: [String], log: String, stdout: String? = nil) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let out = try stdout.map { path in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
            + "os.execv(sys.argv[1], sys.argv[1:])", vigilBinary.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LD_LIBRARY_PATH"] = nil  // the binary finds librdkafka through its rpath
        process.environment = environment
        process.standardOutput = out ?? handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let exit = self.exit
        process.terminationHandler = { p in exit.withLock { $0 = p.terminationStatus } }
        try process.run()
        try handle.close()
        try out?.close()
        self.process = process
    }

    var pid: Int32 { process.processIdentifier }
    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    var exitStatus: Int32? { exit.withLock { $0 } }

    /// Waits until the log holds `text` (or the process ended).
    func waitFor(_ text: String, count: Int = 1, timeout: Duration = .seconds(60)) async -> Bool {
        await eventually(timeout: timeout) {
            self.output.components(separatedBy: text).count - 1 >= count || self.exitStatus != nil
        } && output.components(separatedBy: text).count - 1 >= count
    }

    /// SIGTERM, then the exit status (SIGKILL after `timeout`).
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) async -> Int32? {
        if exitStatus == nil { kill(pid, SIGTERM) }
        if await eventually(timeout: timeout, { self.exitStatus != nil }) { return exitStatus }
        kill(pid, SIGKILL)
        _ = await eventually(timeout: .seconds(10)) { self.exitStatus != nil }
        return nil
    }

    /// kill -9, and waits until it is gone.
    func kill9() async {
        kill(pid, SIGKILL)
        _ = await eventually(timeout: .seconds(10)) { self.exitStatus != nil }
    }

    /// The counts `vigil run` prints when it stops: "detect: N events" → N.
    func count(_ prefix: String) -> Int? {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Int(line.dropFirst(prefix.count).prefix { $0.isNumber })
    }
}

/// Runs `body` with processes it starts, which are always stopped (killed) afterwards.
func withProcesses<T: Sendable>(_ body: (Processes) async throws -> T) async throws -> T {
    let processes = Processes()
    do {
        let result = try await body(processes)
        await processes.killAll()
        return result
    } catch {
        await processes.killAll()
        throw error
    }
}

/// The processes a test started.
final class Processes: Sendable {
    private let started = Shared<[VigilProcess]>([])

    func start(_ arguments: [String], log: String) throws -> VigilProcess {
        let p = try VigilProcess(arguments, log: log)
        started.withLock { $0.append(p) }
        return p
    }

    func killAll() async {
        for p in started.withLock({ $0 }) where p.exitStatus == nil { await p.kill9() }
    }

    /// Every log, for a failure message.
    var logs: String {
        started.withLock { $0 }.map { "--- \($0.log)\n\($0.output.suffix(4000))" }.joined(separator: "\n")
    }
}

/// One test's `vigil run` set-up: raw topic `<name>-eks` (EKS, 4 partitions) created, and a
/// topology file for it in a fresh folder (with the processes' logs): every name prefixed with
/// `name`, the seed rules, the default GeoIP file and the Tor snapshot. No cluster label on the
/// source: `vigil replay` has none, and the EKS rule groups by cluster.
struct RunSetup {
    let name: String
    let raw: String
    let folder: String
    var topology: String { folder + "/topology.yaml" }

    init(_ broker: TestBroker, _ prefix: String, maxPollInterval: String = "30s", deliveryTimeout: String = "120s") async throws {
        name = uniqueName(prefix)
        raw = "\(name)-eks"
        folder = try temporaryFolder("vigil-\(prefix)")
        try await broker.createTopic(raw, partitions: 4)
        try testTopology(broker.bootstrap, name: name, sources: ["{topic: \(raw), format: eks}"], maxPollInterval: maxPollInterval,
                         deliveryTimeout: deliveryTimeout)
            .write(toFile: topology, atomically: true, encoding: .utf8)
    }

    /// `vigil run` on the topology, logging to `<label>.log`.
    func start(_ label: String, in processes: Processes) throws -> VigilProcess {
        try processes.start(["run", "--topology", topology], log: folder + "/\(label).log")
    }
}

/// Public IPs whose keys land on every repartition partition (murmur2 of the key, 4 partitions).
let publicIPs = ["176.95.188.101", "81.2.69.160", "89.160.20.112", "2.125.160.216", "67.43.156.1", "149.101.100.1",
                 "202.196.224.1", "216.160.83.56"]

/// The EKS fixture event as a 403 from `ip`, `i` seconds after 14:45:00, with its own audit id:
/// ten of one IP within 30 minutes fire both 403 threshold rules.
func denial(ip: String, _ i: Int, id: String) throws -> String {
    try eksDenial(second: i, auditID: "\(id)-\(ip)-\(i)", ip: ip)
}

/// The alert ids `vigil replay` (one uninterrupted engine, the same rules and data) gives for
/// these EKS lines: what the running processes must produce.
func replayedAlertIDs(_ lines: [String]) async throws -> Set<String> {
    let dir = try temporaryFolder("vigil-replay")
    let file = dir + "/eks.jsonl"
    try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
    let replay = try VigilProcess(["replay", "--rules", repositoryPath("topology/rules"), "--geoip", repositoryPath("geo/GeoLite2-City.mmdb"),
                                   "--tor", repositoryPath("geo/tor/torbulkexitlist-2024-03-12.txt"), "--allowed-lateness", "10m",
                                   "eks:" + file], log: dir + "/replay.log", stdout: dir + "/alerts.jsonl")
    _ = await eventually(timeout: .seconds(60)) { replay.exitStatus != nil }
    var ids = Set<String>()
    for line in try String(contentsOfFile: dir + "/alerts.jsonl", encoding: .utf8).split(separator: "\n") {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              object["kind"] as? String == "alert", let id = object["alert_id"] as? String else { continue }
        ids.insert(id)
    }
    return ids
}

/// A producer of test input.
func producer(_ broker: TestBroker) throws -> KafkaProducer {
    try KafkaProducer(settings: testProducerSettings([broker.bootstrap]), logger: testLogger)
}

/// Reads a topic from the start in a fresh group until `done` holds for what arrived, or
/// `timeout` passes (then `settle` more, so a duplicate or an extra shows).
func readTopic(_ broker: TestBroker, _ topic: String, timeout: Duration = .seconds(90), settle: Duration = .seconds(2),
               until done: @escaping @Sendable ([ConsumerRecord]) -> Bool) async throws -> [ConsumerRecord] {
    let reader = try KafkaConsumer(settings: testConsumerSettings([broker.bootstrap], group: uniqueName("check")),
                                   topics: [topic], logger: testLogger)
    let received = Shared<[ConsumerRecord]>([])
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for try await batch in reader.batches {
                if done(received.withLock({ $0 += batch; return $0 })) { break }
            }
        }
        group.addTask { try await Task.sleep(for: timeout) }
        try await group.next()
        group.cancelAll()
    }
    let more = try await collect(reader, count: .max, timeout: settle)
    await reader.close()
    return received.withLock { $0 } + more
}

extension ConsumerRecord {
    func headerText(_ key: String) -> String? { header(key).map { String(decoding: $0, as: UTF8.self) } }
}

/// Distinct alert ids of kind "alert" among alert records.
func alertIDs(_ records: [ConsumerRecord]) -> Set<String> {
    Set(records.filter { $0.headerText("vigil-alert-kind") == "alert" }.compactMap { $0.headerText("vigil-alert-id") })
}
