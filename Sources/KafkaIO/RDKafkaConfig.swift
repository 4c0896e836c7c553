import CRdKafka

/// An `rd_kafka_conf_t` built from settings, with every problem collected before any
/// connection is made. Ownership passes to `rd_kafka_new` when a handle is created.
final class RDKafkaConfig {
    private(set) var pointer: OpaquePointer?

    static func consumer(_ settings: ConsumerSettings) throws(KafkaError) -> RDKafkaConfig {
        var problems: [SettingsProblem] = []
        let typed = settings.properties(into: &problems)
        return try RDKafkaConfig(settings.client.librdkafkaProperties(after: typed), problems: problems)
    }

    static func producer(_ settings: ProducerSettings) throws(KafkaError) -> RDKafkaConfig {
        var problems: [SettingsProblem] = []
        let typed = settings.properties(into: &problems)
        return try RDKafkaConfig(settings.client.librdkafkaProperties(after: typed), problems: problems)
    }

    /// A consumer for ``KafkaPartitionReader``: assign only, never joins, stores or commits
    /// (librdkafka's assign wants a group.id; this one is never used with the broker). It reads
    /// to a known end, so a fetch need not wait for more: 10 ms (a broker that holds every fetch
    /// for `fetch.wait.max.ms`, Tansu, would otherwise add 250 ms per fetch to a restore).
    static func reader(_ settings: ClientSettings) throws(KafkaError) -> RDKafkaConfig {
        var problems: [SettingsProblem] = []
        let typed = settings.typedProperties(into: &problems)
            + [("group.id", "vigil-partition-reader"),
               ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"),
               ("enable.partition.eof", "false"), ("fetch.wait.max.ms", "10")]
        return try RDKafkaConfig(settings.librdkafkaProperties(after: typed), problems: problems)
    }

    /// A consumer for ``KafkaGroupOffsets``: the group's id, but never subscribes or joins;
    /// it commits only what it is told to, explicitly.
    static func groupOffsets(_ settings: ClientSettings, group: String) throws(KafkaError) -> RDKafkaConfig {
        var problems: [SettingsProblem] = []
        if group.isEmpty { problems.append(SettingsProblem(key: "group.id", message: "the group id is empty")) }
        let typed = settings.typedProperties(into: &problems)
            + [("group.id", group), ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false")]
        return try RDKafkaConfig(settings.librdkafkaProperties(after: typed), problems: problems)
    }

    static func admin(_ settings: ClientSettings) throws(KafkaError) -> RDKafkaConfig {
        var problems: [SettingsProblem] = []
        let typed = settings.typedProperties(into: &problems)
        return try RDKafkaConfig(settings.librdkafkaProperties(after: typed), problems: problems)
    }

    /// `properties` set in order (``ClientSettings/librdkafkaProperties(after:)``).
    private init(_ properties: [(key: String, value: String)], problems: [SettingsProblem]) throws(KafkaError) {
        var problems = problems
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .other, detail: "rd_kafka_conf_new failed")
        }
        for (key, value) in properties {
            if let problem = Self.set(conf, key, value) { problems.append(problem) }
        }
        if !problems.isEmpty {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.configuration(problems)
        }
        pointer = conf
    }

    private static func set(_ conf: OpaquePointer, _ key: String, _ value: String) -> SettingsProblem? {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
        guard result != RD_KAFKA_CONF_OK else { return nil }
        var message = String(cChars: errstr)
        if ClientSettings.isSecret(key), !value.isEmpty {
            message = message.replacingAll(value, with: "[redacted]")
        }
        if result == RD_KAFKA_CONF_UNKNOWN, message.isEmpty { message = "unknown property" }
        return SettingsProblem(key: key, message: message.isEmpty ? "invalid value" : message)
    }

    /// Hands the configuration to `rd_kafka_new` (which frees it on success).
    func take() -> OpaquePointer? {
        defer { pointer = nil }
        return pointer
    }

    deinit {
        if let pointer { rd_kafka_conf_destroy(pointer) }
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension String {
    /// A string from a NUL-terminated C buffer that librdkafka filled.
    init(cChars buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
