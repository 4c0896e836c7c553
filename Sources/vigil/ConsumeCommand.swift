import ArgumentParser
import Foundation
import KafkaIO
import Logging
import Synchronization

/// `vigil consume --bootstrap B --topic T`: print a topic's records as they arrive.
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print a topic's records as they arrive (alerts, dead letters, anything).",
        discussion: """
            Reads as a throwaway consumer group (nothing is committed), from the end of the topic, \
            or from the beginning with --from-beginning. Formats: value (each record's value, one \
            line: the alerts topic gives the alerts' JSON lines), alert (an alert JSON line as a \
            person reads it: severity, rule, count, who, from where, title, alert_id), record \
            (topic[partition]@offset, key, headers and value, for the dead-letter topic), json (one \
            JSON object per record: topic, partition, offset, timestamp_ms, key, headers, value; a \
            value that is not UTF-8 as value_base64; the view ops/contract's record schemas \
            describe). Stops \
            after --max records, after --timeout without a new record, or on SIGINT/SIGTERM.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case value, alert, record, json
    }

    @Option(help: "Brokers, host:port[,host:port...].")
    var bootstrap: String

    @Option(help: "The topic (repeatable).")
    var topic: [String]

    @Flag(help: "Start at the beginning of the topic instead of its end.")
    var fromBeginning = false

    @Option(help: "Stop after this many records.")
    var max: Int?

    @Option(help: "Stop after this many seconds without a new record (the wait for the group to form included).")
    var timeout: Double?

    @Option(help: "Output: value, alert, record or json.")
    var format: Format = .value

    @Option(name: .customLong("property"), help: "A librdkafka property KEY=VALUE (repeatable).")
    var properties: [String] = []

    func validate() throws {
        if let max, max < 1 { throw ValidationError("--max must be at least 1") }
        if let timeout, !(timeout > 0 && timeout <= 1e9) {
            throw ValidationError("--timeout must be a positive number of seconds, at most 1e9")
        }
    }

    func run() async throws {
        let logger = Console.logger("vigil.consume", level: .warning)
        let group = "vigil-consume-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        let settings = ConsumerSettings(client: try ProduceCommand.client(bootstrap, properties), groupID: group,
                                        autoOffsetReset: fromBeginning ? .earliest : .latest,
                                        sessionTimeout: .seconds(10), autoCommitInterval: nil)
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(settings: settings, topics: topic, logger: logger)
        } catch {
            Console.error("vigil consume: \(error)")
            throw ExitCode(1)
        }
        let lastRecord = Mutex(ContinuousClock.now)
        let stop = Task { [timeout] in
            // The idle timeout: closing the consumer ends its record sequence.
            guard let timeout else { return }
            while !Task.isCancelled {
                let idle = ContinuousClock.now - lastRecord.withLock { $0 }
                if idle >= .milliseconds(Int64(timeout * 1000)) { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
            if !Task.isCancelled { await consumer.close() }
        }
        let signals = RunCommand.onTerminationSignals(logger: logger) {
            Task { await consumer.close() }
        }
        var count = 0
        do {
            for try await record in consumer.records {
                lastRecord.withLock { $0 = ContinuousClock.now }
                FileHandle.standardOutput.write(Data((Self.render(record, format) + "\n").utf8))
                count += 1
                if let max, count >= max { break }
            }
        } catch {
            Console.error("vigil consume: \(error)")
        }
        stop.cancel()
        signals.forEach { $0.cancel() }
        await consumer.close()
        Console.error("consumed \(count) records from \(topic.joined(separator: ","))")
    }

    static func render(_ record: ConsumerRecord, _ format: Format) -> String {
        let value = record.value.map { String(decoding: $0, as: UTF8.self) } ?? ""
        switch format {
        case .value:
            return value
        case .alert:
            return AlertText.render(value) ?? value
        case .record:
            let key = record.key.map { String(decoding: $0, as: UTF8.self) } ?? "(none)"
            let headers = record.headers.map { h in
                "\(h.key)=\(h.value.map { String(decoding: $0, as: UTF8.self) } ?? "(null)")"
            }
            let shown = value.count > 120 ? String(value.prefix(120)) + "…" : value
            return "\(record.topic)[\(record.partition)]@\(record.offset) key=\(key)\n"
                + headers.map { "    " + $0 + "\n" }.joined() + "    value: \(shown)"
        case .json:
            return json(record)
        }
    }

    /// One line of JSON: bytes as UTF-8 text where they are, else base64 (`value_base64`,
    /// `key_base64`); a header without a value is null, a repeated header keeps its last value.
    static func json(_ record: ConsumerRecord) -> String {
        var object: [String: Any] = ["topic": record.topic, "partition": Int(record.partition), "offset": Int(record.offset)]
        object["timestamp_ms"] = record.timestamp.map { Int($0.milliseconds) } ?? NSNull()
        func bytes(_ value: [UInt8]?, _ name: String) {
            guard let value else { object[name] = NSNull(); return }
            if let text = String(validating: value, as: UTF8.self) { object[name] = text } else {
                object[name] = NSNull()
                object[name + "_base64"] = Data(value).base64EncodedString()
            }
        }
        bytes(record.key, "key")
        bytes(record.value, "value")
        var headers: [String: Any] = [:]
        for header in record.headers {
            headers[header.key] = header.value.map { String(decoding: $0, as: UTF8.self) } ?? NSNull()
        }
        object["headers"] = headers
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// An alert JSON line (Detection's `Alert.json`) as a person reads it at a glance.
enum AlertText {
    /// Three lines: severity, rule, count, who and from where; the title; the alert id and
    /// event times. Nil when the text is not an alert.
    static func render(_ line: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let id = object["alert_id"] as? String, let rule = object["rule_id"] as? String else { return nil }
        let severity = (object["severity"] as? String ?? "?").uppercased()
        let kind = object["kind"] as? String == "dedup_summary" ? " (summary)" : ""
        let count = object["count"].map { "\($0)" } ?? "?"
        let output = object["output"] as? [String: Any] ?? [:]
        var who = text(output["user.name"])
        if who == nil, let process = text(output["process.name"]) {
            who = process + (text(output["process.parent.name"]).map { " (from \($0))" } ?? "")
        }
        var from: String?
        if let source = object["source"] as? [String: Any], let ip = source["ip"] as? String {
            var notes: [String] = []
            if source["tor_exit"] as? Bool == true { notes.append("Tor exit") }
            if let geo = source["geo"] as? [String: Any] {
                notes.append([geo["city_name"], geo["country_name"]].compactMap { $0 as? String }.joined(separator: ", "))
            }
            notes.removeAll { $0.isEmpty }
            from = ip + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
        } else if let container = text(output["container.id"]) {
            from = "container \(container.prefix(12))" + (text(output["container.image.name"]).map { " (\($0))" } ?? "")
        }
        let time = (object["first_seen"] as? String).map { " first seen \($0)" } ?? ""
        var head = "\(severity.padding(toLength: 6, withPad: " ", startingAt: 0)) \(rule)\(kind)  count \(count)"
        if let who { head += "  who: \(who)" }
        if let from { head += "  from: \(from)" }
        let title = object["title"] as? String ?? ""
        return head + "\n       \(title)\n       alert_id \(id)\(time)"
    }

    private static func text(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s
        case let array as [Any]: return array.compactMap { text($0) }.joined(separator: " ")
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }
}
