import AuditEvents
import KafkaIO

/// What runs: the Kafka cluster and groups, the raw sources, enrichment, the rules
/// folder, the topics Vigil writes, worker counts and every limit. Read from a
/// `topology/*.yaml` file by ``TopologyLoader``; paths are already resolved against
/// the file's folder.
public struct Topology: Sendable {
    /// Where the topology came from (for messages).
    public var file: String
    public var kafka: KafkaSection
    public var sources: [Source]
    public var enrichment: EnrichmentSection
    /// The folder of rule files (`*.yaml`, one rule each).
    public var rulesDirectory: String
    /// How often the detect stage checks the rules folder for changed files and reloads it
    /// (`rules.reload_check`); zero: only on SIGHUP.
    public var rulesReloadCheck: Duration = Topology.defaultRulesReloadCheck
    public var topics: Topics
    public var workers: Workers
    public var limits: Limits
    /// The HTTP listener of `/metrics`, `/health` and `/ready`.
    public var observability = Observability()

    /// The Kafka cluster and the clients' shared settings.
    public struct KafkaSection: Sendable {
        public var bootstrapServers: [String]
        public var clientID: String = "vigil"
        /// Any librdkafka property (security.protocol, sasl.*, ssl.*, ...), passed through.
        public var properties: [String: String] = [:]
        public var ingestGroup: String = "vigil-ingest"
        public var detectGroup: String = "vigil-detect"
        public var autoOffsetReset: String = "earliest"
        public var sessionTimeout: Duration = .seconds(45)
        public var maxPollInterval: Duration = .seconds(300)
        public var heartbeatInterval: Duration?
        /// Offsets marked done are committed this often (and always on revoke and close).
        public var commitInterval: Duration = .seconds(5)
        public var deliveryTimeout: Duration = .seconds(120)
        public var linger: Duration = .milliseconds(5)
        /// How Vigil's producers compress record batches (repartition, alerts, changelog, dead
        /// letters): lz4 unless set, which on the local broker cut its drain CPU by about a third
        /// and Vigil's own by ~9 % (ops/bench/e2e.md, "Compression").
        public var compression: ProducerSettings.Compression = .lz4
        /// How long the broker may hold a consumer's fetch that found nothing (`fetch.wait.max.ms`).
        public var fetchWait: Duration = .milliseconds(100)
        /// librdkafka statistics (consumer lag per partition for `vigil_consumer_lag`); off when nil.
        public var statisticsInterval: Duration?
    }

    /// One raw topic and what it carries.
    public struct Source: Sendable, Hashable {
        public var topic: String
        public var format: SourceFormat
        /// The cluster name for events whose records carry none (EKS).
        public var cluster: String?
    }

    public struct EnrichmentSection: Sendable {
        public var geoIP: GeoIP?
        public var tor: Tor?

        public struct GeoIP: Sendable {
            public var path: String
            public var language: String = "en"
            public var cacheSize: Int = 100_000
            public var reloadCheck: Duration = .seconds(30)
        }

        public struct Tor: Sendable {
            /// A URL (`https://...`) or a file path.
            public var source: String
            public var interval: Duration = .seconds(3600)
            /// Older than this, the list is degraded.
            public var maxAge: Duration = .seconds(6 * 3600)
            /// How long sightings count for event-time membership.
            public var retention: Duration = .seconds(24 * 3600)
            /// Where the last good list is saved (a restart without network still has one).
            public var stateFile: String?
        }
    }

    /// A topic Vigil writes, with the partitions it is created with when missing.
    public struct TopicSpec: Sendable, Hashable {
        public var name: String
        public var partitions: Int
        /// Repartition topic only: events per record at most (``RepartitionFrame``); 1 (the
        /// default, when `frame_events` is absent) writes one event per record (version 2, what a
        /// detect stage older than frames reads). The shipped topologies set 64.
        public var frameEvents: Int = 1
    }

    public struct Topics: Sendable {
        public var repartition: TopicSpec
        public var alerts: TopicSpec
        public var deadLetter: TopicSpec
        /// Compacted (`cleanup.policy=compact`).
        public var changelog: TopicSpec
        /// -1: the broker's default.
        public var replicationFactor: Int = -1
        /// Create the topics above when missing.
        public var create: Bool = true
    }

    public struct Workers: Sendable {
        /// Decode + enrich workers of the ingest stage (each owns a decoder).
        public var ingest: Int = 2
        /// Rule-evaluation workers of the detect stage (keyed by record key hash).
        public var detect: Int = 4
    }

    /// The two stages of `vigil run`.
    public enum Stage: String, Sendable, CaseIterable {
        case ingest, detect
    }

    /// A count per stage (`limits.consumer_buffer`, `limits.max_batch`): one number in the file
    /// sets both. Ingest counts raw records; detect counts repartition records, frames of up to
    /// `topics.repartition.frame_events` events each.
    public struct PerStage: Sendable, Equatable {
        public var ingest: Int
        public var detect: Int

        public init(ingest: Int, detect: Int) {
            self.ingest = ingest
            self.detect = detect
        }

        public subscript(stage: Stage) -> Int {
            get { self[keyPath: Self.field(stage)] }
            set { self[keyPath: Self.field(stage)] = newValue }
        }

        private static func field(_ stage: Stage) -> WritableKeyPath<PerStage, Int> {
            switch stage {
            case .ingest: \.ingest
            case .detect: \.detect
            }
        }
    }

    public struct Limits: Sendable {
        /// Records fetched but not yet processed; past it the consumer pauses its partitions.
        /// Detect's records are frames (up to `topics.repartition.frame_events` events each; 1 by default).
        public var consumerBuffer = PerStage(ingest: 10_000, detect: 10_000)
        /// The most records handed over (and processed) in one batch. Each ingest batch is one
        /// produce round on the repartition topic (a record batch per partition), so a shipper's
        /// burst taken as one batch, not five, leaves the broker fewer and larger batches to store
        /// and fetch (ops/bench/e2e.md, session 18).
        public var maxBatch = PerStage(ingest: 5_000, detect: 1_000)
        /// Produced records not yet acknowledged; past it producing waits.
        public var maxInFlight: Int = 100_000
        /// Raw records larger than this are dead-lettered.
        public var maxRecordBytes: Int = 1 << 20
        /// JSON nested deeper than this is dead-lettered.
        public var maxDepth: Int = 128
        /// How late (event time) an event may arrive and still count in its window.
        public var allowedLateness: Duration = .seconds(600)
        /// How far an engine's event-time clock may run ahead of the wall clock: an event stamped
        /// later is evaluated at its own time but moves the clock only this far, so a skewed or
        /// forged timestamp does not make the events after it late.
        public var maxClockLead: Duration = .seconds(300)
        /// State keys per rule per worker; past it the oldest are evicted (and counted).
        public var maxKeysPerRule: Int = 100_000
        /// An idle partition's watermark advances with wall-clock time after this long.
        public var idleAdvance: Duration = .seconds(5)
        /// A graceful shutdown (flush, commit, leave) is given at most this long.
        public var shutdownTimeout: Duration = .seconds(30)
    }

    public static let defaultRulesReloadCheck: Duration = .seconds(10)

    public struct Observability: Sendable {
        /// Where `/metrics`, `/health` and `/ready` listen (port 0: any free port).
        public var listen = ListenAddress(host: "0.0.0.0", port: 9464)
    }

    /// A `HOST:PORT` to listen on (`[v6]:PORT` for an IPv6 address).
    public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `HOST:PORT`, `[IPv6]:PORT`; nil when it is not one (port 0...65535, a host of
        /// letters, digits, '.', '-' or an IPv6 address in brackets).
        public init?(_ text: String) {
            let hostPart: Substring, portPart: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
                hostPart = text[text.index(after: text.startIndex)..<close]
                portPart = text[text.index(close, offsetBy: 2)...]
                guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            } else {
                guard let colon = text.lastIndex(of: ":") else { return nil }
                hostPart = text[..<colon]
                portPart = text[text.index(after: colon)...]
                guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
                else { return nil }
            }
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let port = Int(portPart), port <= 65_535 else { return nil }
            self.init(host: String(hostPart), port: port)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The source for a raw topic.
    public func source(forTopic topic: String) -> Source? {
        sources.first { $0.topic == topic }
    }
}

extension Topology {
    /// A duration as topology files write it (`500ms`, `30s`, `5m`, `1h`, `1d`); nil otherwise.
    public static func duration(_ text: String) -> Duration? { TopologyReader.parseDuration(text) }
}
