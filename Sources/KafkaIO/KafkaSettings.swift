/// One problem found in the Kafka settings: the key it concerns and what is wrong.
public struct SettingsProblem: Sendable, Equatable, CustomStringConvertible {
    /// The setting's key: a typed field's librdkafka name (`group.id`) or a pass-through key.
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}

/// Where a new consumer group starts when it has no committed offset.
public enum OffsetReset: String, Sendable {
    case earliest, latest
}

/// Settings every Kafka client shares: where the cluster is, who we are, and any
/// librdkafka property (security.protocol, sasl.*, ssl.*, ...) passed through as is.
///
/// Secrets (`sasl.password`, `ssl.key.password`, ...) are never printed: `description`
/// and every error message redact them.
public struct ClientSettings: Sendable, CustomStringConvertible {
    /// `host:port` of one or more brokers.
    public var bootstrapServers: [String]
    public var clientID: String
    /// How often librdkafka reports statistics (consumer lag, queue sizes); nil is off.
    public var statisticsInterval: Duration?
    /// Any librdkafka property, applied after the typed fields.
    public var properties: [String: String]

    public init(bootstrapServers: [String], clientID: String = "vigil",
                statisticsInterval: Duration? = nil, properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.statisticsInterval = statisticsInterval
        self.properties = properties
    }

    public var description: String {
        let props = properties.keys.sorted().map { "\($0)=\(Self.display($0, properties[$0] ?? ""))" }
        return "bootstrap=\(bootstrapServers.joined(separator: ",")) client.id=\(clientID)"
            + (props.isEmpty ? "" : " " + props.joined(separator: " "))
    }

    /// Whether a librdkafka property holds a secret that must never be printed.
    public static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return k.contains("password") || k.contains("secret") || k == "sasl.oauthbearer.config"
            || k == "ssl.key.pem" || k == "sasl.jaas.config" || k == "ssl_key"
    }

    static func display(_ key: String, _ value: String) -> String {
        isSecret(key) ? "[redacted]" : value
    }

    /// The typed fields as librdkafka properties, with the problems found in them.
    /// What a client is made with, in the order it is set (a later value of a key wins): the
    /// typed settings `typed`, then `properties` by key.
    func librdkafkaProperties(after typed: [(String, String)]) -> [(key: String, value: String)] {
        typed.map { (key: $0.0, value: $0.1) } + properties.keys.sorted().map { (key: $0, value: properties[$0] ?? "") }
    }

    func typedProperties(into problems: inout [SettingsProblem]) -> [(String, String)] {
        var out: [(String, String)] = []
        if bootstrapServers.isEmpty {
            problems.append(.init(key: "bootstrap.servers", message: "at least one host:port is required"))
        }
        for server in bootstrapServers where !Self.isHostPort(server) {
            problems.append(.init(key: "bootstrap.servers", message: "'\(server)' is not host:port with a port in 1...65535"))
        }
        out.append(("bootstrap.servers", bootstrapServers.joined(separator: ",")))
        if clientID.isEmpty {
            problems.append(.init(key: "client.id", message: "must not be empty"))
        }
        out.append(("client.id", clientID))
        if let interval = statisticsInterval {
            if let ms = interval.positiveMilliseconds {
                out.append(("statistics.interval.ms", String(ms)))
            } else {
                problems.append(.init(key: "statistics.interval.ms", message: Duration.millisecondsProblem))
            }
        }
        return out
    }

    static func isHostPort(_ text: String) -> Bool {
        // host:port or [v6]:port; no scheme, no spaces.
        guard let colon = text.lastIndex(of: ":") else { return false }
        let host = text[..<colon]
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return false }
        return !host.isEmpty && !host.contains(where: { $0 == " " || $0 == "/" })
    }
}

/// Consumer settings: the group, where it starts, its liveness intervals and its buffer.
public struct ConsumerSettings: Sendable, CustomStringConvertible {
    public var client: ClientSettings
    public var groupID: String
    public var autoOffsetReset: OffsetReset
    /// The group coordinator evicts a member whose heartbeats stop for this long.
    public var sessionTimeout: Duration
    /// The group evicts a member that does not poll for this long (KafkaIO polls on its own
    /// thread, and pauses instead of stopping when the caller is slow).
    public var maxPollInterval: Duration
    public var heartbeatInterval: Duration?
    /// Stored (done) offsets are committed this often, and always on revoke and close; nil
    /// commits only on `commit()`, revoke and close.
    public var autoCommitInterval: Duration?
    /// Records fetched but not yet taken by the caller; past it, the consumer pauses its
    /// partitions (it keeps polling, so it stays in the group) until the caller catches up.
    public var bufferCapacity: Int
    /// The most records handed over in one batch.
    public var maxBatchSize: Int
    /// The longest a broker may hold a fetch that found nothing (`fetch.wait.max.ms`; nil:
    /// librdkafka's 500 ms). A Kafka broker answers as soon as data arrives, so this only sets
    /// how often an idle consumer asks; some brokers hold every fetch this long, data or not
    /// (Tansu 0.6: see README.md), where it is a wait added to every fetch.
    public var fetchWait: Duration?

    public init(client: ClientSettings, groupID: String, autoOffsetReset: OffsetReset = .earliest,
                sessionTimeout: Duration = .seconds(45), maxPollInterval: Duration = .seconds(300),
                heartbeatInterval: Duration? = nil, autoCommitInterval: Duration? = .seconds(5),
                bufferCapacity: Int = 10_000, maxBatchSize: Int = 1_000, fetchWait: Duration? = nil) {
        self.client = client
        self.groupID = groupID
        self.autoOffsetReset = autoOffsetReset
        self.sessionTimeout = sessionTimeout
        self.maxPollInterval = maxPollInterval
        self.heartbeatInterval = heartbeatInterval
        self.autoCommitInterval = autoCommitInterval
        self.bufferCapacity = bufferCapacity
        self.maxBatchSize = maxBatchSize
        self.fetchWait = fetchWait
    }

    public var description: String { "\(client) group.id=\(groupID) auto.offset.reset=\(autoOffsetReset.rawValue)" }

    /// `fetch.queue.backoff.ms`, unless `client.properties` sets it: how long librdkafka waits
    /// before fetching a partition again once its fetch queue went past `queued.min.messages` or
    /// `queued.max.messages.kbytes`. librdkafka's 1 s default starved a stage that had just held
    /// for room: it emptied the queue (64 MB, ~0.5 s of a drain's work) and then waited out the
    /// rest of the second for the next fetch (README.md, "Back-pressure"). A check every 10 ms
    /// while the queue is full costs nothing measurable.
    public static let fetchQueueBackoffMilliseconds = 10

    /// The librdkafka properties a consumer is made with, in the order they are set (a later
    /// value of a key wins): Vigil's typed settings, then `client.properties`. Secrets are in it
    /// as given (`description` is the printable form).
    public var librdkafkaProperties: [(key: String, value: String)] {
        var problems: [SettingsProblem] = []
        return client.librdkafkaProperties(after: properties(into: &problems))
    }

    /// Properties Vigil owns: at-least-once depends on them, so they cannot be overridden.
    /// `enable.auto.commit` among them: librdkafka's own commits would bypass the poll thread's
    /// (which commit only offsets marked done), and were silently overridden before.
    static let managedKeys: Set<String> = ["enable.auto.offset.store", "enable.auto.commit", "group.id",
                                           "bootstrap.servers", "enable.partition.eof", "client.id"]

    /// Every problem in these settings, found without connecting.
    public func validate() -> [SettingsProblem] {
        do { _ = try RDKafkaConfig.consumer(self); return [] } catch { return error.problems }
    }

    func properties(into problems: inout [SettingsProblem]) -> [(String, String)] {
        var out = client.typedProperties(into: &problems)
        if groupID.isEmpty { problems.append(.init(key: "group.id", message: "must not be empty")) }
        out.append(("group.id", groupID))
        out.append(("auto.offset.reset", autoOffsetReset.rawValue))
        out.append(("enable.auto.offset.store", "false"))
        out.append(("enable.partition.eof", "false"))
        out.append(("fetch.queue.backoff.ms", String(Self.fetchQueueBackoffMilliseconds)))
        let session = sessionTimeout.positiveMilliseconds
        let poll = maxPollInterval.positiveMilliseconds
        if let session { out.append(("session.timeout.ms", String(session))) } else {
            problems.append(.init(key: "session.timeout.ms", message: Duration.millisecondsProblem))
        }
        if let poll { out.append(("max.poll.interval.ms", String(poll))) } else {
            problems.append(.init(key: "max.poll.interval.ms", message: Duration.millisecondsProblem))
        }
        if let session, let poll, poll < session {
            problems.append(.init(key: "max.poll.interval.ms",
                                  message: "\(poll) ms is shorter than session.timeout.ms (\(session) ms)"))
        }
        if let heartbeat = heartbeatInterval {
            if let ms = heartbeat.positiveMilliseconds {
                out.append(("heartbeat.interval.ms", String(ms)))
                if let session, ms >= session {
                    problems.append(.init(key: "heartbeat.interval.ms",
                                          message: "\(ms) ms must be shorter than session.timeout.ms (\(session) ms)"))
                }
            } else {
                problems.append(.init(key: "heartbeat.interval.ms", message: Duration.millisecondsProblem))
            }
        }
        // The consumer's poll thread commits the stored offsets every `autoCommitInterval`
        // itself (ConsumerLoop), so it sees each commit's outcome; librdkafka's auto-commit
        // reports outcomes only through an offset_commit_cb (ops/metrics.md).
        out.append(("enable.auto.commit", "false"))
        if let interval = autoCommitInterval, interval.positiveMilliseconds == nil {
            problems.append(.init(key: "auto.commit.interval.ms", message: Duration.millisecondsProblem))
        }
        if let wait = fetchWait {
            if let ms = wait.positiveMilliseconds { out.append(("fetch.wait.max.ms", String(ms))) } else {
                problems.append(.init(key: "fetch.wait.max.ms", message: Duration.millisecondsProblem))
            }
        }
        if bufferCapacity < 1 {
            problems.append(.init(key: "bufferCapacity", message: "must be at least 1"))
        }
        if maxBatchSize < 1 {
            problems.append(.init(key: "maxBatchSize", message: "must be at least 1"))
        }
        for key in client.properties.keys.sorted() where Self.managedKeys.contains(key) {
            problems.append(.init(key: key, message: "is managed by Vigil (at-least-once depends on it); use the typed setting"))
        }
        return out
    }
}

/// Producer settings: idempotent, Java-compatible partitioning, bounded in-flight records.
public struct ProducerSettings: Sendable, CustomStringConvertible {
    public var client: ClientSettings
    /// Records handed to librdkafka and not yet acknowledged; `send` waits past it.
    public var maxInFlight: Int
    /// How long librdkafka keeps retrying one record before reporting it failed.
    public var deliveryTimeout: Duration
    /// How long records wait to fill a batch.
    public var linger: Duration
    /// How record batches are compressed (`compression.type`); consumers decompress whatever
    /// they fetch, so a topic's producers may differ.
    public var compression: Compression

    /// librdkafka's `compression.type` values.
    public enum Compression: String, Sendable, CaseIterable {
        case none, gzip, snappy, lz4, zstd
    }

    public init(client: ClientSettings, maxInFlight: Int = 100_000,
                deliveryTimeout: Duration = .seconds(120), linger: Duration = .milliseconds(5),
                compression: Compression = .none) {
        self.client = client
        self.maxInFlight = maxInFlight
        self.deliveryTimeout = deliveryTimeout
        self.linger = linger
        self.compression = compression
    }

    public var description: String { "\(client) max.in.flight.records=\(maxInFlight)" }

    static let managedKeys: Set<String> = ["enable.idempotence", "partitioner", "bootstrap.servers", "client.id",
                                           "queue.buffering.max.messages", "compression.type", "compression.codec"]

    /// Every problem in these settings, found without connecting.
    public func validate() -> [SettingsProblem] {
        do { _ = try RDKafkaConfig.producer(self); return [] } catch { return error.problems }
    }

    func properties(into problems: inout [SettingsProblem]) -> [(String, String)] {
        var out = client.typedProperties(into: &problems)
        out.append(("enable.idempotence", "true"))
        // librdkafka's Java-compatible partitioner: murmur2 of the key, random for null keys.
        out.append(("partitioner", "murmur2_random"))
        if maxInFlight < 1 || maxInFlight > 10_000_000 {
            problems.append(.init(key: "maxInFlight", message: "must be in 1...10000000"))
        }
        // librdkafka's own queue is a little larger than our gate, so the gate bites first.
        out.append(("queue.buffering.max.messages", String(min(max(maxInFlight, 1) + 1_000, 2_147_483_647))))
        if let ms = deliveryTimeout.positiveMilliseconds { out.append(("delivery.timeout.ms", String(ms))) } else {
            problems.append(.init(key: "delivery.timeout.ms", message: Duration.millisecondsProblem))
        }
        let lingerMs = Double(linger.components.seconds) * 1000 + Double(linger.components.attoseconds) / 1e15
        if lingerMs < 0 { problems.append(.init(key: "linger.ms", message: "must not be negative")) }
        out.append(("linger.ms", String(lingerMs)))
        out.append(("compression.type", compression.rawValue))
        for key in client.properties.keys.sorted() where Self.managedKeys.contains(key) {
            problems.append(.init(key: key, message: "is managed by Vigil; use the typed setting"))
        }
        return out
    }
}

extension Duration {
    /// What a duration given to librdkafka (an Int32 of milliseconds) must be.
    static let millisecondsProblem = "must be a positive duration of at most 24 days (librdkafka's Int32 of milliseconds)"

    /// Whole milliseconds, rounded up, when positive and at most Int32.max.
    var positiveMilliseconds: Int? {
        let (seconds, atto) = components
        guard seconds > 0 || (seconds == 0 && atto > 0) else { return nil }
        // Past librdkafka's Int32 of milliseconds anyway (and past Int64 once multiplied).
        guard seconds <= Int64(Int32.max) / 1000 + 1 else { return nil }
        let ms = seconds * 1000 + (atto + 999_999_999_999_999) / 1_000_000_000_000_000
        return ms > Int64(Int32.max) ? nil : Int(ms)
    }
}
