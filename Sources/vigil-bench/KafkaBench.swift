import ArgumentParser
import Foundation
import KafkaIO
import Logging
import Synchronization

/// KafkaIO's produce and consume throughput, for 1 KB records, printed as one JSON line
/// each. ops/bench/kafka.sh runs it beside librdkafka's rdkafka_performance on the same
/// broker and topic and records the ratio.
struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "KafkaIO throughput: produce or consume N records against a broker.")

    enum Mode: String, ExpressibleByArgument { case produce, consume }

    @Argument(help: "produce or consume") var mode: Mode
    @Option(help: "Bootstrap servers (host:port).") var bootstrap: String
    @Option(help: "Topic to use.") var topic: String
    @Option(help: "Records to produce or consume.") var count = 500_000
    @Option(help: "Record size in bytes (produce).") var size = 1_024
    @Option(help: "Consumer group (consume).") var group = "vigil-bench"
    @Option(name: .customLong("property"), help: "A librdkafka property KEY=VALUE (repeatable).")
    var properties: [String] = []

    func run() async throws {
        var logger = Logger(label: "vigil.bench")
        logger.logLevel = .warning
        var props: [String: String] = [:]
        for property in properties {
            let parts = property.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--property takes KEY=VALUE, got \(property)") }
            props[parts[0]] = parts[1]
        }
        let client = ClientSettings(bootstrapServers: [bootstrap], clientID: "vigil-bench", properties: props)
        switch mode {
        case .produce: try await produce(client, logger)
        case .consume: try await consume(client, logger)
        }
    }

    private func produce(_ client: ClientSettings, _ logger: Logger) async throws {
        let producer = try KafkaProducer(settings: ProducerSettings(client: client), logger: logger)
        let payload = [UInt8](repeating: 0x61, count: size)
        let delivered = Counter()
        let failed = Counter()
        let start = ContinuousClock.now
        for _ in 0..<count {
            try await producer.enqueue(ProducerRecord(topic: topic, key: nil, value: payload)) { result in
                if case .success = result { delivered.add() } else { failed.add() }
            }
        }
        try await producer.flush(timeout: .seconds(300))
        let elapsed = ContinuousClock.now - start
        await producer.close()
        report("produce", elapsed: elapsed, records: delivered.value, extra: ["failed": failed.value])
    }

    private func consume(_ client: ClientSettings, _ logger: Logger) async throws {
        let settings = ConsumerSettings(client: client, groupID: group, sessionTimeout: .seconds(6),
                                        maxPollInterval: .seconds(7), heartbeatInterval: .seconds(1))
        let consumer = try KafkaConsumer(settings: settings, topics: [topic], logger: logger)
        var received = 0
        var bytes = 0
        var start: ContinuousClock.Instant?
        for try await batch in consumer.batches {
            if start == nil { start = ContinuousClock.now }
            received += batch.count
            for record in batch { bytes += record.value?.count ?? 0 }
            // As a pipeline would: mark the batch done (the last record of each partition).
            var done: [TopicPartition: Int64] = [:]
            for record in batch { done[record.topicPartition] = record.offset + 1 }
            consumer.markDone(upTo: done)
            if received >= count { break }
        }
        let elapsed = ContinuousClock.now - (start ?? ContinuousClock.now)
        await consumer.close()
        report("consume", elapsed: elapsed, records: received, extra: ["bytes": bytes])
    }

    private func report(_ what: String, elapsed: Duration, records: Int, extra: [String: Int]) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(records) / seconds : 0
        var fields = ["\"mode\":\"\(what)\"", "\"records\":\(records)", "\"seconds\":\(String(format: "%.3f", seconds))",
                      "\"records_per_second\":\(Int(rate))"]
        fields += extra.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
        print("{" + fields.joined(separator: ",") + "}")
    }
}

/// A counter bumped from the producer's delivery thread.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
