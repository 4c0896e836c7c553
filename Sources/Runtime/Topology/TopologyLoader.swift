import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import Yams

/// Reads a topology file and checks everything it points at, reporting every problem
/// at once, each with file:line:column and a caret, before anything connects.
public enum TopologyLoader {
    /// What a check found: the topology (when the file could be read into one) and every problem.
    public struct Outcome: Sendable {
        public var topology: Topology?
        public var problems: [TopologyProblem]
        /// Rules loaded from the rules folder (sound ones only).
        public var rules: [Rule]
    }

    /// Reads and fully checks the file; throws ``RuntimeError`` (`invalidTopology`) listing
    /// every problem if there is any. `bootstrap` overrides `kafka.bootstrap`.
    public static func load(file: String, bootstrap: [String]? = nil) throws(RuntimeError) -> (Topology, [Rule]) {
        let outcome = check(file: file, bootstrap: bootstrap)
        guard outcome.problems.isEmpty, let topology = outcome.topology else {
            throw RuntimeError(code: .invalidTopology,
                               detail: "\(file): \(outcome.problems.count) problem(s)", problems: outcome.problems)
        }
        return (topology, outcome.rules)
    }

    /// The file's problems, then those of the rules folder, the Kafka settings (as
    /// librdkafka would refuse them), and the GeoIP and Tor files. Connects to nothing.
    public static func check(file: String, bootstrap: [String]? = nil) -> Outcome {
        guard let data = FileManager.default.contents(atPath: file),
              let text = String(data: data, encoding: .utf8) else {
            return Outcome(topology: nil, problems: [TopologyProblem(file: file, line: 1, column: 1,
                detail: "cannot read the topology file as UTF-8 text", sourceLine: "")], rules: [])
        }
        var reader = TopologyReader(file: file, text: text)
        var builder = TopologyBuilder(directory: (file as NSString).deletingLastPathComponent)
        guard let root = reader.compose(ifEmpty: "empty topology file") else {
            return Outcome(topology: nil, problems: reader.problems, rules: [])
        }
        var topology = builder.read(root, &reader, file: file)
        if let bootstrap, topology != nil { topology?.kafka.bootstrapServers = bootstrap }
        var rules: [Rule] = []
        if let topology {
            builder.checkKafka(topology, &reader)
            builder.checkFiles(topology, &reader)
            var isDirectory: ObjCBool = false
            var ruleProblems: [TopologyProblem] = []
            if !FileManager.default.fileExists(atPath: topology.rulesDirectory, isDirectory: &isDirectory)
                || !isDirectory.boolValue {
                if let node = builder.rulesNode {
                    reader.problem(at: node, "rules: no such folder \(topology.rulesDirectory)")
                }
            } else {
                let ruleOutcome = RuleLoader.check(directory: topology.rulesDirectory)
                rules = ruleOutcome.rules
                ruleProblems = ruleOutcome.problems
                if ruleOutcome.rules.isEmpty && ruleOutcome.problems.isEmpty, let node = builder.rulesNode {
                    reader.problem(at: node, "no rule files (*.yaml) in \(topology.rulesDirectory)")
                }
            }
            return Outcome(topology: topology, problems: reader.problemsInFileOrder + ruleProblems, rules: rules)
        }
        return Outcome(topology: nil, problems: reader.problemsInFileOrder, rules: rules)
    }
}

/// Builds a ``Topology`` from the YAML tree, remembering where each setting was written
/// so later checks (Kafka settings, files) can point at it.
struct TopologyBuilder {
    let directory: String
    /// Nodes by the key Kafka reports problems under (`group.id`, a property name, ...).
    var kafkaNodes: [String: Node] = [:]
    var kafkaNode: Node?
    var rulesNode: Node?
    var geoPathNode: Node?
    var torSourceNode: Node?

    static let topKeys = ["kafka", "sources", "enrichment", "rules", "topics", "workers", "limits", "observability"]

    /// A path as written, resolved against the topology file's folder.
    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return path }
        return (directory as NSString).appendingPathComponent(path)
    }

    mutating func read(_ root: Node, _ r: inout TopologyReader, file: String) -> Topology? {
        guard let top = r.mapping(root, "the topology", allowed: Self.topKeys,
                                  required: ["kafka", "sources", "rules", "topics"]) else { return nil }
        let problemsBefore = r.problems.count
        let kafka = top["kafka"].flatMap { readKafka($0.value, &r) }
        let sources = top["sources"].map { readSources($0.value, &r) } ?? []
        let enrichment = top["enrichment"].map { readEnrichment($0.value, &r) } ?? Topology.EnrichmentSection()
        var rules: String?
        var rulesReloadCheck = Topology.defaultRulesReloadCheck
        if let node = top["rules"]?.value {
            if case .mapping = node {
                // rules: {path: FOLDER, reload_check: 10s}
                if let m = r.mapping(node, "rules", allowed: ["path", "reload_check"], required: ["path"]),
                   let pathNode = m["path"]?.value {
                    rulesNode = pathNode
                    rules = r.string(pathNode, "rules.path (the rules folder)", allowEmpty: false).map(resolve)
                    if let v = m["reload_check"]?.value {
                        rulesReloadCheck = r.duration(v, "rules.reload_check", allowZero: true) ?? rulesReloadCheck
                    }
                }
            } else {
                rulesNode = node
                rules = r.string(node, "rules (the rules folder)", allowEmpty: false).map(resolve)
            }
        }
        let topics = top["topics"].flatMap { readTopics($0.value, &r) }
        let workers = top["workers"].map { readWorkers($0.value, &r) } ?? Topology.Workers()
        let limits = top["limits"].map { readLimits($0.value, &r) } ?? Topology.Limits()
        let observability = top["observability"].map { readObservability($0.value, &r) } ?? Topology.Observability()
        if let topics {
            let outputs = [topics.repartition.name, topics.alerts.name, topics.deadLetter.name, topics.changelog.name]
            if Set(outputs).count != outputs.count, let node = top["topics"]?.value {
                r.problem(at: node, "the repartition, alerts, dead_letter and changelog topics must be four different topics")
            }
            for (i, source) in sources.enumerated() where outputs.contains(source.topic) {
                if case .sequence(let seq)? = top["sources"]?.value, i < seq.count {
                    r.problem(at: seq[i], "source topic '\(source.topic)' is also one of Vigil's own topics")
                }
            }
        }
        guard r.problems.count == problemsBefore, let kafka, let rules, let topics else { return nil }
        return Topology(file: file, kafka: kafka, sources: sources, enrichment: enrichment,
                        rulesDirectory: rules, rulesReloadCheck: rulesReloadCheck, topics: topics, workers: workers,
                        limits: limits, observability: observability)
    }

    // MARK: Sections

    mutating func readKafka(_ node: Node, _ r: inout TopologyReader) -> Topology.KafkaSection? {
        kafkaNode = node
        let keys = ["bootstrap", "client_id", "groups", "auto_offset_reset", "session_timeout", "max_poll_interval",
                    "heartbeat_interval", "commit_interval", "delivery_timeout", "linger", "fetch_wait", "statistics_interval",
                    "compression", "properties"]
        guard let m = r.mapping(node, "kafka", allowed: keys, required: ["bootstrap"]) else { return nil }
        var k = Topology.KafkaSection(bootstrapServers: [])
        if let n = m["bootstrap"]?.value {
            kafkaNodes["bootstrap.servers"] = n
            k.bootstrapServers = r.strings(n, "kafka.bootstrap", allowEmpty: false).flatMap {
                $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
        if let n = m["client_id"]?.value {
            kafkaNodes["client.id"] = n
            k.clientID = r.string(n, "kafka.client_id", allowEmpty: false) ?? k.clientID
        }
        if let n = m["groups"]?.value, let g = r.mapping(n, "kafka.groups", allowed: ["ingest", "detect"]) {
            if let v = g["ingest"]?.value {
                kafkaNodes["group.id.ingest"] = v
                k.ingestGroup = r.string(v, "kafka.groups.ingest", allowEmpty: false) ?? k.ingestGroup
            }
            if let v = g["detect"]?.value {
                kafkaNodes["group.id.detect"] = v
                k.detectGroup = r.string(v, "kafka.groups.detect", allowEmpty: false) ?? k.detectGroup
            }
            if k.ingestGroup == k.detectGroup {
                r.problem(at: n, "the ingest and detect groups must differ (they read different topics)")
            }
        }
        if let n = m["auto_offset_reset"]?.value, let v = r.string(n, "kafka.auto_offset_reset", allowEmpty: false) {
            if OffsetReset(rawValue: v) == nil {
                r.problem(at: n, "kafka.auto_offset_reset must be earliest or latest")
            } else {
                k.autoOffsetReset = v
            }
        }
        func duration(_ key: String, _ kafkaKey: String, allowZero: Bool = false) -> Duration? {
            guard let n = m[key]?.value else { return nil }
            kafkaNodes[kafkaKey] = n
            return r.duration(n, "kafka.\(key)", allowZero: allowZero)
        }
        k.sessionTimeout = duration("session_timeout", "session.timeout.ms") ?? k.sessionTimeout
        k.maxPollInterval = duration("max_poll_interval", "max.poll.interval.ms") ?? k.maxPollInterval
        k.heartbeatInterval = duration("heartbeat_interval", "heartbeat.interval.ms") ?? k.heartbeatInterval
        k.commitInterval = duration("commit_interval", "auto.commit.interval.ms") ?? k.commitInterval
        k.deliveryTimeout = duration("delivery_timeout", "delivery.timeout.ms") ?? k.deliveryTimeout
        k.linger = duration("linger", "linger.ms", allowZero: true) ?? k.linger
        k.fetchWait = duration("fetch_wait", "fetch.wait.max.ms") ?? k.fetchWait
        k.statisticsInterval = duration("statistics_interval", "statistics.interval.ms") ?? k.statisticsInterval
        if let n = m["compression"]?.value, let v = r.string(n, "kafka.compression", allowEmpty: false) {
            kafkaNodes["compression.type"] = n
            if let c = ProducerSettings.Compression(rawValue: v) {
                k.compression = c
            } else {
                let all = ProducerSettings.Compression.allCases.map(\.rawValue).joined(separator: ", ")
                r.problem(at: n, "kafka.compression must be one of \(all)")
            }
        }
        if let n = m["properties"]?.value {
            if case .mapping(let props) = n {
                for (key, value) in props {
                    guard let name = r.string(key, "a librdkafka property name", allowEmpty: false),
                          let text = r.string(value, "kafka.properties.\(key.string ?? "")", allowEmpty: true)
                    else { continue }
                    if k.properties[name] != nil { r.problem(at: key, "duplicate property '\(name)'") }
                    k.properties[name] = Self.expandEnvironment(text, at: value, &r)
                    kafkaNodes[name] = key
                }
            } else {
                r.problem(at: n, "kafka.properties must be a mapping of librdkafka properties")
            }
        }
        return k
    }

    /// A property written `${NAME}` takes the value of the environment variable NAME (a
    /// Kubernetes Secret's key, a systemd credential), so secrets stay out of the topology
    /// file; an unset variable is a problem at the value.
    static func expandEnvironment(_ text: String, at node: Node, _ r: inout TopologyReader) -> String {
        guard text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 else { return text }
        let name = String(text.dropFirst(2).dropLast())
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
              name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) })
        else { return text }
        guard let value = ProcessInfo.processInfo.environment[name] else {
            r.problem(at: node, "environment variable \(name) is not set (the value is written ${\(name)})")
            return ""
        }
        return value
    }

    func readSources(_ node: Node, _ r: inout TopologyReader) -> [Topology.Source] {
        guard case .sequence(let seq) = node, !seq.isEmpty else {
            r.problem(at: node, "sources must be a non-empty list of {topic, format}")
            return []
        }
        var out: [Topology.Source] = []
        var seen: Set<String> = []
        let formats = SourceFormat.allCases.map(\.rawValue).joined(separator: ", ")
        for item in seq {
            guard let m = r.mapping(item, "a source", allowed: ["topic", "format", "cluster"],
                                    required: ["topic", "format"]),
                  let topicNode = m["topic"]?.value, let formatNode = m["format"]?.value else { continue }
            let topic = r.string(topicNode, "sources.topic", allowEmpty: false)
            let formatText = r.string(formatNode, "sources.format", allowEmpty: false)
            let format = formatText.flatMap(SourceFormat.init(rawValue:))
            if formatText != nil && format == nil {
                r.problem(at: formatNode, "unknown format '\(formatText ?? "")' (known: \(formats))")
            }
            let cluster = m["cluster"].flatMap { r.string($0.value, "sources.cluster", allowEmpty: false) }
            if let topic, !seen.insert(topic).inserted {
                r.problem(at: topicNode, "topic '\(topic)' is listed twice")
                continue
            }
            guard let topic, let format else { continue }
            out.append(Topology.Source(topic: topic, format: format, cluster: cluster))
        }
        return out
    }

    mutating func readEnrichment(_ node: Node, _ r: inout TopologyReader) -> Topology.EnrichmentSection {
        var out = Topology.EnrichmentSection()
        guard let m = r.mapping(node, "enrichment", allowed: ["geoip", "tor"]) else { return out }
        if let n = m["geoip"]?.value,
           let g = r.mapping(n, "enrichment.geoip", allowed: ["path", "lang", "cache_size", "reload_check"],
                             required: ["path"]),
           let pathNode = g["path"]?.value, let path = r.string(pathNode, "enrichment.geoip.path", allowEmpty: false) {
            geoPathNode = pathNode
            var geo = Topology.EnrichmentSection.GeoIP(path: resolve(path))
            if let v = g["lang"]?.value { geo.language = r.string(v, "enrichment.geoip.lang", allowEmpty: false) ?? geo.language }
            if let v = g["cache_size"]?.value {
                geo.cacheSize = r.int(v, "enrichment.geoip.cache_size", in: 1...100_000_000) ?? geo.cacheSize
            }
            if let v = g["reload_check"]?.value {
                geo.reloadCheck = r.duration(v, "enrichment.geoip.reload_check") ?? geo.reloadCheck
            }
            out.geoIP = geo
        }
        if let n = m["tor"]?.value,
           let t = r.mapping(n, "enrichment.tor", allowed: ["source", "interval", "max_age", "retention", "state_file"],
                             required: ["source"]),
           let sourceNode = t["source"]?.value, let source = r.string(sourceNode, "enrichment.tor.source", allowEmpty: false) {
            torSourceNode = sourceNode
            let isURL = source.lowercased().hasPrefix("http://") || source.lowercased().hasPrefix("https://")
            var tor = Topology.EnrichmentSection.Tor(source: isURL ? source : resolve(source))
            if let v = t["interval"]?.value { tor.interval = r.duration(v, "enrichment.tor.interval") ?? tor.interval }
            if let v = t["max_age"]?.value { tor.maxAge = r.duration(v, "enrichment.tor.max_age") ?? tor.maxAge }
            if let v = t["retention"]?.value { tor.retention = r.duration(v, "enrichment.tor.retention") ?? tor.retention }
            if let v = t["state_file"]?.value { tor.stateFile = r.string(v, "enrichment.tor.state_file", allowEmpty: false).map(resolve) }
            out.tor = tor
        }
        return out
    }

    func readTopics(_ node: Node, _ r: inout TopologyReader) -> Topology.Topics? {
        let names = ["repartition", "alerts", "dead_letter", "changelog"]
        guard let m = r.mapping(node, "topics", allowed: names + ["replication_factor", "create"],
                                required: names) else { return nil }
        func spec(_ key: String) -> Topology.TopicSpec? {
            guard let n = m[key]?.value,
                  let t = r.mapping(n, "topics.\(key)", allowed: ["name", "partitions"] + (key == "repartition" ? ["frame_events"] : []),
                                    required: ["name", "partitions"]),
                  let nameNode = t["name"]?.value, let partitionsNode = t["partitions"]?.value else { return nil }
            let name = r.string(nameNode, "topics.\(key).name", allowEmpty: false)
            if let name, !Self.isTopicName(name) {
                r.problem(at: nameNode, "'\(name)' is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)")
            }
            let partitions = r.int(partitionsNode, "topics.\(key).partitions", in: 1...10_000)
            var frameEvents = 1  // absent: one event per record, which every detect stage reads
            if let n = t["frame_events"]?.value {
                frameEvents = r.int(n, "topics.\(key).frame_events", in: 1...10_000) ?? frameEvents
            }
            guard let name, let partitions else { return nil }
            return Topology.TopicSpec(name: name, partitions: partitions, frameEvents: frameEvents)
        }
        let repartition = spec("repartition"), alerts = spec("alerts")
        let deadLetter = spec("dead_letter"), changelog = spec("changelog")
        var replication = -1
        if let n = m["replication_factor"]?.value {
            replication = r.int(n, "topics.replication_factor", in: -1...32) ?? -1
            if replication == 0 { r.problem(at: n, "topics.replication_factor must be -1 (broker default) or at least 1") }
        }
        let create = m["create"].flatMap { r.bool($0.value, "topics.create") } ?? true
        guard let repartition, let alerts, let deadLetter, let changelog else { return nil }
        if changelog.partitions != repartition.partitions, let n = m["changelog"]?.value {
            // Detect state of repartition partition p lives in changelog partition p.
            r.problem(at: n, "topics.changelog.partitions (\(changelog.partitions)) must equal "
                + "topics.repartition.partitions (\(repartition.partitions)): partition p's state lives in changelog partition p")
        }
        return Topology.Topics(repartition: repartition, alerts: alerts, deadLetter: deadLetter,
                               changelog: changelog, replicationFactor: replication, create: create)
    }

    static func isTopicName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 249 && name != "." && name != ".."
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    func readWorkers(_ node: Node, _ r: inout TopologyReader) -> Topology.Workers {
        var w = Topology.Workers()
        guard let m = r.mapping(node, "workers", allowed: ["ingest", "detect"]) else { return w }
        if let n = m["ingest"]?.value { w.ingest = r.int(n, "workers.ingest", in: 1...256) ?? w.ingest }
        if let n = m["detect"]?.value { w.detect = r.int(n, "workers.detect", in: 1...256) ?? w.detect }
        return w
    }

    func readLimits(_ node: Node, _ r: inout TopologyReader) -> Topology.Limits {
        var l = Topology.Limits()
        let keys = ["consumer_buffer", "max_batch", "max_in_flight", "max_record_bytes", "max_depth",
                    "allowed_lateness", "max_clock_lead", "max_keys_per_rule", "idle_advance", "shutdown_timeout"]
        guard let m = r.mapping(node, "limits", allowed: keys) else { return l }
        func int(_ key: String, _ range: ClosedRange<Int>) -> Int? {
            m[key].flatMap { r.int($0.value, "limits.\(key)", in: range) }
        }
        func duration(_ key: String, allowZero: Bool = false) -> Duration? {
            m[key].flatMap { r.duration($0.value, "limits.\(key)", allowZero: allowZero) }
        }
        if let n = m["consumer_buffer"]?.value {
            l.consumerBuffer = readPerStage(n, "limits.consumer_buffer", 1...10_000_000, &r, default: l.consumerBuffer)
        }
        // A stage's batch left unset is at most its buffer: a smaller buffer alone is not a
        // problem, whether max_batch is absent or names only the other stage.
        for stage in Topology.Stage.allCases { l.maxBatch[stage] = min(l.maxBatch[stage], l.consumerBuffer[stage]) }
        if let n = m["max_batch"]?.value {
            l.maxBatch = readPerStage(n, "limits.max_batch", 1...1_000_000, &r, default: l.maxBatch)
            for stage in Topology.Stage.allCases where l.maxBatch[stage] > l.consumerBuffer[stage] {
                r.problem(at: n, "limits.max_batch of \(stage) (\(l.maxBatch[stage])) must not exceed "
                          + "limits.consumer_buffer of \(stage) (\(l.consumerBuffer[stage]))")
            }
        }
        l.maxInFlight = int("max_in_flight", 1...10_000_000) ?? l.maxInFlight
        l.maxRecordBytes = int("max_record_bytes", 1...(64 << 20)) ?? l.maxRecordBytes
        l.maxDepth = int("max_depth", 2...DecoderOptions.maxNesting) ?? l.maxDepth
        l.allowedLateness = duration("allowed_lateness", allowZero: true) ?? l.allowedLateness
        l.maxClockLead = duration("max_clock_lead", allowZero: true) ?? l.maxClockLead
        l.maxKeysPerRule = int("max_keys_per_rule", 1...100_000_000) ?? l.maxKeysPerRule
        l.idleAdvance = duration("idle_advance") ?? l.idleAdvance
        l.shutdownTimeout = duration("shutdown_timeout") ?? l.shutdownTimeout
        return l
    }

    /// A count per stage: a number for both stages, or `{ingest: N, detect: N}` (either may be
    /// left out: its default stays).
    func readPerStage(_ node: Node, _ what: String, _ range: ClosedRange<Int>, _ r: inout TopologyReader,
                      default value: Topology.PerStage) -> Topology.PerStage {
        var v = value
        if case .scalar = node {
            guard let n = r.int(node, what, in: range) else { return v }
            return Topology.PerStage(ingest: n, detect: n)
        }
        guard let m = r.mapping(node, what, allowed: Topology.Stage.allCases.map(\.rawValue)) else { return v }
        for stage in Topology.Stage.allCases {
            if let n = m[stage.rawValue]?.value { v[stage] = r.int(n, "\(what).\(stage)", in: range) ?? v[stage] }
        }
        return v
    }

    func readObservability(_ node: Node, _ r: inout TopologyReader) -> Topology.Observability {
        var o = Topology.Observability()
        guard let m = r.mapping(node, "observability", allowed: ["listen"]) else { return o }
        if let n = m["listen"]?.value, let text = r.string(n, "observability.listen", allowEmpty: false) {
            if let address = Topology.ListenAddress(text) {
                o.listen = address
            } else {
                r.problem(at: n, "observability.listen must be HOST:PORT (port 0...65535; [v6]:PORT for IPv6), not '\(text)'")
            }
        }
        return o
    }

    // MARK: Checks of what the topology points at

    /// The Kafka clients' settings as KafkaIO validates them, each problem placed at its setting.
    func checkKafka(_ topology: Topology, _ r: inout TopologyReader) {
        var seen: Set<String> = []
        let settings: [(String, [SettingsProblem])] = Topology.Stage.allCases.map {
            ($0.rawValue, topology.consumerSettings(for: $0).validate())
        } + [("", topology.producerSettings().validate())]
        for (group, problems) in settings {
            for problem in problems where seen.insert(problem.description).inserted {
                var key = problem.key
                if key == "group.id" { key = "group.id.\(group)" }
                if let node = kafkaNodes[key] ?? kafkaNodes[problem.key] {
                    r.problem(at: node, "kafka: \(problem)")
                } else if let node = kafkaNode {
                    r.problem(at: node, "kafka: \(problem)")
                }
            }
        }
    }

    /// The GeoIP database opens and is a City/Country file; a Tor source file exists.
    func checkFiles(_ topology: Topology, _ r: inout TopologyReader) {
        if let geo = topology.enrichment.geoIP, let node = geoPathNode {
            do {
                _ = try GeoDatabase(path: geo.path, language: geo.language)
            } catch {
                r.problem(at: node, "enrichment.geoip.path: \(error)")
            }
        }
        if let tor = topology.enrichment.tor, let node = torSourceNode,
           case .file(let path) = TorExitSource(tor.source), !FileManager.default.fileExists(atPath: path) {
            r.problem(at: node, "enrichment.tor.source: no such file \(path)")
        }
    }
}
