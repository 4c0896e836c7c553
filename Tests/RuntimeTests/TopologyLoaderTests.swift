import Foundation
import KafkaIO
import KafkaIOTesting
import Runtime
import Testing

@Suite struct TopologyLoaderTests {
    @Test func defaultTopologyIsValidAndLoadsTheSeedRules() throws {
        let outcome = TopologyLoader.check(file: repositoryPath("topology/vigil.yaml"))
        #expect(outcome.problems.isEmpty, "\(outcome.problems.map(\.message).joined(separator: "\n"))")
        let t = try #require(outcome.topology)
        #expect(t.sources.map(\.topic) == ["eks-audit", "aks-audit", "gke-audit", "proc-exec"])
        #expect(t.sources.map(\.format) == [.eks, .aks, .gke, .process])
        #expect(outcome.rules.count == 5)
        #expect(t.kafka.ingestGroup == "vigil-ingest" && t.kafka.detectGroup == "vigil-detect")
        #expect(t.topics.repartition.name == "vigil.events.by-key")
        #expect(t.enrichment.geoIP?.path.hasSuffix("geo/GeoLite2-City.mmdb") == true)
        #expect(t.rulesDirectory.hasSuffix("topology/rules"))
        #expect(t.rulesReloadCheck == .seconds(10))
    }

    /// A folder with a rules folder (one seed rule) and `load(tail)`: a small topology (Kafka,
    /// one source, the four topics; 8 lines and a blank one) with `tail` after it, checked.
    private func smallTopology() throws -> (dir: String, load: (String) throws -> TopologyLoader.Outcome) {
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/rules", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repositoryPath("topology/rules/Kubernetes.API.IOC.Activity.yaml"),
                                         toPath: dir + "/rules/ioc.yaml")
        let head = """
            kafka: {bootstrap: 127.0.0.1:9092}
            sources: [{topic: eks-audit, format: eks}]
            topics:
              repartition: {name: r, partitions: 1}
              alerts: {name: a, partitions: 1}
              dead_letter: {name: d, partitions: 1}
              changelog: {name: c, partitions: 1}

            """
        return (dir, { tail in
            try write(head + tail, to: dir + "/t.yaml")
            return TopologyLoader.check(file: dir + "/t.yaml")
        })
    }

    /// `rules:` is a folder, or `{path, reload_check}`; a bad check interval is placed at its line.
    @Test func rulesTakeAFolderOrAPathWithAReloadCheck() throws {
        let (dir, load) = try smallTopology()
        let plain = try load("rules: rules\n")
        #expect(plain.problems.isEmpty && plain.topology?.rulesReloadCheck == .seconds(10))
        let mapped = try load("rules:\n  path: rules\n  reload_check: 0s\n")
        #expect(mapped.problems.isEmpty, "\(mapped.problems.map(\.message))")
        #expect(mapped.topology?.rulesReloadCheck == .zero)
        #expect(mapped.topology?.rulesDirectory == dir + "/rules" && mapped.rules.count == 1)
        let broken = try load("rules:\n  path: nowhere\n  reload_check: soon\n  watch: yes\n")
        let lines = broken.problems.map(\.line).sorted()
        #expect(lines == [10, 11], "\(broken.problems.map(\.message))")
    }

    @Test func settingsMapOntoKafkaIOAndEnrichment() throws {
        let (t, _) = try TopologyLoader.load(file: repositoryPath("topology/vigil.yaml"), bootstrap: ["10.1.2.3:9093"])
        let consumer = t.consumerSettings(for: .ingest)
        #expect(consumer.groupID == "vigil-ingest")
        #expect(consumer.client.bootstrapServers == ["10.1.2.3:9093"])
        #expect(consumer.autoCommitInterval == .seconds(5))
        #expect(consumer.bufferCapacity == 10_000 && consumer.maxBatchSize == 5_000)
        let detect = t.consumerSettings(for: .detect)
        #expect(detect.groupID == "vigil-detect" && detect.bufferCapacity == 10_000 && detect.maxBatchSize == 1_000)
        #expect(t.producerSettings().maxInFlight == 100_000)
        #expect(t.producerSettings().linger == .milliseconds(5))
        // Vigil's producers compress (lz4 in the file and when unset); loadgen's raw records are the shippers'.
        #expect(t.producerSettings().compression == .lz4)
        // Tansu, the demo broker, holds every fetch this long (KafkaIO README); unset: 100 ms.
        #expect(consumer.fetchWait == .milliseconds(25))
        let dir = try temporaryDirectory()
        try write(testTopology("127.0.0.1:9092", name: "t", sources: ["{topic: eks-audit, format: eks}"]), to: dir + "/t.yaml")
        #expect(try TopologyLoader.load(file: dir + "/t.yaml").0.consumerSettings(for: .detect).fetchWait == .milliseconds(100))
        #expect(try TopologyLoader.load(file: dir + "/t.yaml").0.producerSettings().compression == .lz4)
        let changelog = try #require(t.outputTopics.first { $0.name == "vigil.state.changelog" })
        #expect(changelog.configs["cleanup.policy"] == "compact" && changelog.partitions == 4)
        let tor = try #require(t.enrichment.tor).listConfiguration
        #expect(tor.refreshInterval == .seconds(3600) && tor.maximumAge == .seconds(6 * 3600))
        let geo = try #require(t.enrichment.geoIP).locatorConfiguration
        #expect(geo.cacheCapacity == 100_000 && geo.language == "en")
        #expect(t.observability.listen == Topology.ListenAddress(host: "0.0.0.0", port: 9464))
        #expect(consumer.client.statisticsInterval == .seconds(15))
    }

    /// `limits.consumer_buffer` and `limits.max_batch` are one number for both stages, or
    /// `{ingest, detect}`; each stage's batch must fit in its buffer.
    @Test func bufferAndBatchAreOneNumberForBothStagesOrOnePerStage() throws {
        let (_, load) = try smallTopology()
        typealias Limits = (buffer: Topology.PerStage, batch: Topology.PerStage)
        func limits(_ text: String) throws -> Limits? {
            let outcome = try load("rules: rules\n" + text)
            #expect(outcome.problems.isEmpty, "\(outcome.problems.map(\.detail))")
            return outcome.topology.map { ($0.limits.consumerBuffer, $0.limits.maxBatch) }
        }
        func both(_ i: Int, _ d: Int) -> Topology.PerStage { Topology.PerStage(ingest: i, detect: d) }
        var l = try #require(try limits(""))
        #expect(l.buffer == both(10_000, 10_000) && l.batch == both(5_000, 1_000))
        l = try #require(try limits("limits: {consumer_buffer: 900, max_batch: 700}\n"))
        #expect(l.buffer == both(900, 900) && l.batch == both(700, 700))
        l = try #require(try limits("limits: {consumer_buffer: {detect: 400}, max_batch: {detect: 300}}\n"))
        #expect(l.buffer == both(10_000, 400) && l.batch == both(5_000, 300))
        l = try #require(try limits("limits: {max_batch: {ingest: 2000, detect: 30}}\n"))
        #expect(l.buffer == both(10_000, 10_000) && l.batch == both(2_000, 30))
        // A buffer set alone bounds the default batch instead of conflicting with it.
        l = try #require(try limits("limits: {consumer_buffer: 3000}\n"))
        #expect(l.buffer == both(3_000, 3_000) && l.batch == both(3_000, 1_000))
        // So does a buffer whose stage max_batch leaves out.
        l = try #require(try limits("limits: {consumer_buffer: {ingest: 4000}, max_batch: {detect: 300}}\n"))
        #expect(l.buffer == both(4_000, 10_000) && l.batch == both(4_000, 300))
        #expect(Topology.PerStage(ingest: 1, detect: 2)[.detect] == 2)
        let over = try load("rules: rules\nlimits: {consumer_buffer: {ingest: 4000, detect: x}, max_batch: {ingest: 4001, detect: 0, stage: 3}}\n")
        #expect(over.problems.map(\.detail).sorted() == [
            "limits.consumer_buffer.detect must be a whole number",
            "limits.max_batch of ingest (4001) must not exceed limits.consumer_buffer of ingest (4000)",
            "limits.max_batch.detect must be in 1...1000000, not 0",
            "unknown key 'stage' in limits.max_batch (known: ingest, detect)",
        ].sorted(), "\(over.problems.map(\.detail))")
    }

    @Test func listenAddressesParseAsHostAndPort() {
        #expect(Topology.ListenAddress("127.0.0.1:0") == Topology.ListenAddress(host: "127.0.0.1", port: 0))
        #expect(Topology.ListenAddress("localhost:9464")?.host == "localhost")
        #expect(Topology.ListenAddress("[::1]:9464") == Topology.ListenAddress(host: "::1", port: 9464))
        #expect(Topology.ListenAddress("[::1]:9464")?.description == "[::1]:9464")
        for bad in ["9464", ":9464", "host:", "host:65536", "host:-1", "ho st:80", "[::1]9464", "[]:80", "a:b:80", "host:0x50"] {
            #expect(Topology.ListenAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func brokenFileListsEveryProblemWithLineAndColumn() throws {
        let dir = try Self.folderWithABrokenRule()
        let text = """
            kafka:
              bootstrap: 127.0.0.1:9092
              session_timeout: 10 seconds
              colour: blue
              compression: brotli
              properties:
                enable.auto.offset.store: "true"
            sources:
              - topic: eks-audit
                format: ekss
              - topic: eks-audit
                format: eks
            enrichment:
              geoip:
                path: missing.mmdb
            rules: rules
            topics:
              repartition: {name: vigil.events.by-key, partitions: 0, frame_events: 0}
              alerts: {name: "bad topic!", partitions: 1}
              dead_letter: {name: vigil.dlq, partitions: 1}
              changelog: {name: vigil.changelog, partitions: 2}
            workers:
              ingest: many
            limits:
              max_in_flight: -5
            observability:
              listen: 0.0.0.0:http
            """
        let file = dir + "/broken.yaml"
        try write(text, to: file)
        let outcome = TopologyLoader.check(file: file)
        let found = outcome.problems.map { "\($0.file.hasSuffix("broken.yaml") && !$0.file.contains("rules") ? "topology" : "rule"):\($0.line):\($0.column)" }
        let expected = [
            "topology:3:20",   // session_timeout
            "topology:4:3",    // unknown key colour
            "topology:5:16",   // compression brotli
            "topology:10:13",  // unknown format
            "topology:11:12",  // duplicate topic
            "topology:18:56",  // partitions 0
            "topology:18:73",  // frame_events 0
            "topology:19:18",  // topic name
            "topology:23:11",  // workers.ingest
            "topology:25:18",  // max_in_flight
            "topology:27:11",  // listen address
        ]
        for position in expected {
            #expect(found.contains(position), "missing \(position) in \(found)\n\(outcome.problems.map(\.message).joined(separator: "\n"))")
        }
        // Every message names the file and position and shows the line with a caret.
        let partitions = try #require(outcome.problems.first { $0.line == 18 })
        #expect(partitions.message.hasPrefix("\(file):18:56: topics.repartition.partitions must be in 1...10000"))
        #expect(partitions.message.contains("\n  repartition: {name: vigil.events.by-key, partitions: 0, frame_events: 0}\n"))
        #expect(partitions.message.hasSuffix("^"))
        #expect(outcome.topology == nil)
    }

    @Test func problemsBeyondTheFileAreListedTooKafkaGeoAndRules() throws {
        let dir = try Self.folderWithABrokenRule()
        try write("not a database", to: dir + "/fake.mmdb")
        let file = dir + "/vigil.yaml"
        try write("""
            kafka:
              bootstrap: [127.0.0.1:9092, "nohost"]
              session_timeout: 30s
              max_poll_interval: 10s
              properties:
                enable.auto.offset.store: "true"
                no.such.property: x
                compression.type: zstd
              fetch_wait: 10m
            sources:
              - {topic: eks-audit, format: eks}
            enrichment:
              geoip: {path: fake.mmdb}
              tor: {source: no-such-list.txt}
            rules: rules
            topics:
              repartition: {name: r, partitions: 1}
              alerts: {name: a, partitions: 1}
              dead_letter: {name: d, partitions: 1}
              changelog: {name: c, partitions: 1}
            """, to: file)
        let outcome = TopologyLoader.check(file: file)
        let messages = outcome.problems.map(\.message)
        func has(_ line: Int, _ text: String) -> Bool {
            outcome.problems.contains { $0.line == line && $0.file == file && $0.detail.contains(text) }
        }
        #expect(has(2, "bootstrap.servers"), "\(messages)")
        #expect(has(4, "max.poll.interval.ms"), "\(messages)")
        #expect(has(6, "enable.auto.offset.store"), "\(messages)")
        #expect(has(7, "no.such.property"), "\(messages)")
        #expect(has(8, "compression.type"), "\(messages)")   // managed: kafka.compression
        #expect(has(9, "fetch.wait.max.ms"), "\(messages)")
        #expect(has(13, "enrichment.geoip.path"), "\(messages)")
        #expect(has(14, "no such file"), "\(messages)")
        #expect(outcome.problems.contains { $0.file.hasSuffix("rules/broken.yaml") && $0.line == 5 }, "\(messages)")
        #expect(throws: RuntimeError.self) { try TopologyLoader.load(file: file) }
    }

    /// A temporary folder with `rules/broken.yaml`, a rule whose condition does not parse (line 5).
    static func folderWithABrokenRule() throws -> String {
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/rules", withIntermediateDirectories: true)
        try write("""
            id: Broken.Rule
            title: broken
            severity: high
            log_types: [Amazon.EKS.Audit]
            where: verb == and
            """, to: dir + "/rules/broken.yaml")
        return dir
    }

    @Test func aPropertyWrittenAsAnEnvironmentVariableTakesItsValueAndAnUnsetOneIsAProblem() throws {
        let dir = try temporaryDirectory()
        let file = dir + "/t.yaml"
        let set = "VIGIL_TEST_SECRET_\(UInt32.random(in: 0...UInt32.max))"
        let unset = set + "_UNSET"
        setenv(set, "s3cret", 1)
        defer { unsetenv(set) }
        try write("""
            kafka:
              bootstrap: 127.0.0.1:9092
              properties:
                security.protocol: SASL_PLAINTEXT
                sasl.mechanisms: PLAIN
                sasl.username: vigil
                sasl.password: "${\(set)}"
            sources:
              - {topic: eks-audit, format: eks}
            rules: \(repositoryPath("topology/rules"))
            topics:
              repartition: {name: r, partitions: 1}
              alerts: {name: a, partitions: 1}
              dead_letter: {name: d, partitions: 1}
              changelog: {name: c, partitions: 1}
            """, to: file)
        let (t, _) = try TopologyLoader.load(file: file)
        #expect(t.kafka.properties["sasl.password"] == "s3cret")
        #expect(t.kafka.properties["sasl.username"] == "vigil", "other values are left alone")

        try write(try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: set, with: unset), to: file)
        let outcome = TopologyLoader.check(file: file)
        #expect(outcome.problems.map(\.message).contains { $0.contains("t.yaml:7:20: environment variable \(unset) is not set") },
                "\(outcome.problems.map(\.message))")
    }

    @Test func invalidYAMLIsOneProblemAtItsPosition() throws {
        let dir = try temporaryDirectory()
        let file = dir + "/t.yaml"
        try write("kafka:\n  bootstrap: [a\nsources: x\n", to: file)
        let outcome = TopologyLoader.check(file: file)
        #expect(outcome.problems.count == 1)
        #expect(outcome.problems.first?.detail.hasPrefix("invalid YAML") == true)
    }
}
