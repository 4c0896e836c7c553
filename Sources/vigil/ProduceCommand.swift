import ArgumentParser
import Foundation
import KafkaIO
import Logging
import Synchronization

/// `vigil produce --bootstrap B --topic T FILE...`: one record per line of JSON-lines files.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce each non-empty line of the files (or stdin: -) as one record to a topic.",
        discussion: """
            Lines are sent as they are (no validation: a malformed line is a record too, which is \
            how the demo shows the dead-letter topic). Without --key-separator records have no key. \
            Waits until the broker acknowledged every record; exit 1 if any failed.
            """)

    @Option(help: "Brokers, host:port[,host:port...].")
    var bootstrap: String

    @Option(help: "The topic.")
    var topic: String

    @Option(help: "Split each line at the first occurrence of this string into key and value.")
    var keySeparator: String?

    @Option(name: .customLong("property"), help: "A librdkafka property KEY=VALUE (repeatable).")
    var properties: [String] = []

    @Option(help: ArgumentHelp("How record batches are compressed.", valueName: "codec"))
    var compression: ProducerSettings.Compression = .none

    @Argument(help: "JSON-lines files; - reads stdin.")
    var files: [String] = ["-"]

    func run() async throws {
        let logger = Console.logger("vigil.produce", level: .warning)
        let settings = ProducerSettings(client: try Self.client(bootstrap, properties), compression: compression)
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(settings: settings, logger: logger)
        } catch {
            Console.error("vigil produce: \(error)")
            throw ExitCode(1)
        }
        let tally = DeliveryTally()
        var sent = 0
        for file in files {
            let data: Data
            do {
                data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                    : try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                Console.error("vigil produce: cannot read \(file): \(error.localizedDescription)")
                await producer.close()
                throw ExitCode(1)
            }
            for line in data.split(separator: UInt8(ascii: "\n")) {
                var bytes = Array(line)
                if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                var key: [UInt8]?
                if let separator = keySeparator.map({ Array($0.utf8) }), !separator.isEmpty,
                   let cut = bytes.firstRange(of: separator) {
                    key = Array(bytes[..<cut.lowerBound])
                    bytes = Array(bytes[cut.upperBound...])
                }
                if await tally.send(ProducerRecord(topic: topic, key: key, value: bytes), with: producer) { sent += 1 }
            }
        }
        let (failed, first) = await tally.finish(producer, timeout: settings.deliveryTimeout)
        Console.error("produced \(sent - failed) records to \(topic)" + (failed > 0 ? ", \(failed) failed: \(first ?? "")" : ""))
        if failed > 0 || first != nil { throw ExitCode(1) }
    }

    /// Client settings from `--bootstrap` and `--property KEY=VALUE` options.
    static func client(_ bootstrap: String, _ properties: [String]) throws -> ClientSettings {
        var props: [String: String] = [:]
        for p in properties {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw ValidationError("--property \(p): expected KEY=VALUE")
            }
            props[String(p[..<eq])] = String(p[p.index(after: eq)...])
        }
        return ClientSettings(bootstrapServers: RunCommand.servers(bootstrap), clientID: "vigil-cli",
                              properties: props)
    }
}

/// What a command handed the producer and what failed: a record refused at once or whose
/// delivery failed counts, the first error is kept for the message (a failed flush too).
final class DeliveryTally: Sendable {
    private let state = Mutex<(count: Int, first: String?)>((0, nil))

    /// Enqueues `record`; false when the producer refused it (counted).
    @discardableResult
    func send(_ record: ProducerRecord, with producer: KafkaProducer) async -> Bool {
        do {
            try await producer.enqueue(record) { [self] result in
                if case .failure(let error) = result { failed(error) }
            }
            return true
        } catch {
            failed(error)
            return false
        }
    }

    /// Flushes (within `timeout`) and closes the producer: the failed count and the first error.
    func finish(_ producer: KafkaProducer, timeout: Duration) async -> (failed: Int, first: String?) {
        do { try await producer.flush(timeout: timeout) } catch {
            state.withLock { f in if f.first == nil { f.first = "\(error)" } }
        }
        await producer.close()
        return state.withLock { ($0.count, $0.first) }
    }

    private func failed(_ error: any Error) {
        state.withLock { f in f.count += 1; if f.first == nil { f.first = "\(error)" } }
    }
}
