import KafkaIO
import KafkaIOTesting
import Testing

@Suite struct SettingsTests {
    @Test func everyProblemIsListedBeforeConnecting() {
        let settings = ConsumerSettings(
            client: ClientSettings(bootstrapServers: ["localhost", "broker:99999"], clientID: "",
                                   properties: ["no.such.property": "1", "fetch.max.bytes": "lots",
                                                "enable.auto.offset.store": "true", "enable.auto.commit": "true"]),
            groupID: "", sessionTimeout: .seconds(10), maxPollInterval: .seconds(5))
        let problems = settings.validate()
        let keys = Set(problems.map(\.key))
        #expect(keys.isSuperset(of: ["bootstrap.servers", "client.id", "group.id", "max.poll.interval.ms",
                                      "no.such.property", "fetch.max.bytes", "enable.auto.offset.store",
                                      "enable.auto.commit"]),
                "\(problems)")
        #expect(problems.filter { $0.key == "bootstrap.servers" }.count == 2)
    }

    /// A duration too long for librdkafka (from a topology: up to 2^40 days parse) is a listed
    /// problem, not an overflow while converting it to milliseconds.
    @Test func durationsPastLibrdkafkasMillisecondsAreProblems() {
        let huge = Duration.seconds(Int64(1) << 52)
        var settings = ConsumerSettings(client: ClientSettings(bootstrapServers: ["localhost:9092"]), groupID: "g",
                                        sessionTimeout: huge, maxPollInterval: .seconds(Int64(Int32.max)))
        settings.fetchWait = huge
        let problems = settings.validate()
        #expect(Set(problems.map(\.key)) == ["session.timeout.ms", "max.poll.interval.ms", "fetch.wait.max.ms"],
                "\(problems)")
        #expect(problems.allSatisfy { $0.message.contains("at most 24 days") })
        var ok = ConsumerSettings(client: ClientSettings(bootstrapServers: ["localhost:9092"]), groupID: "g",
                                  sessionTimeout: .seconds(10), maxPollInterval: .seconds(300))
        ok.fetchWait = .seconds(300)  // librdkafka's own maximum
        #expect(ok.validate().isEmpty, "\(ok.validate())")
    }

    @Test func constructionFailsWithAllProblems() {
        let settings = ConsumerSettings(client: ClientSettings(bootstrapServers: [],
                                                               properties: ["bogus.key": "x"]),
                                        groupID: "g")
        #expect {
            _ = try KafkaConsumer(settings: settings, topics: ["t"], logger: testLogger)
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.code == .configuration && Set(error.problems.map(\.key)) == ["bootstrap.servers", "bogus.key"]
        }
    }

    @Test func validSettingsHaveNoProblems() {
        let consumer = testConsumerSettings(["127.0.0.1:9092"], group: "g",
                                            properties: ["security.protocol": "plaintext"])
        #expect(consumer.validate().isEmpty)
        #expect(testProducerSettings(["127.0.0.1:9092"]).validate().isEmpty)
    }

    /// librdkafka's 1 s `fetch.queue.backoff.ms` starved a stage after each hold (README.md,
    /// "Back-pressure"); Vigil sets a short one, and a deployment's own value still wins.
    @Test func fetchQueueBackoffIsShortUnlessTheDeploymentSetsIt() {
        func backoff(_ settings: ConsumerSettings) -> String? {
            settings.librdkafkaProperties.last { $0.key == "fetch.queue.backoff.ms" }?.value
        }
        let plain = testConsumerSettings(["127.0.0.1:9092"], group: "g")
        #expect(backoff(plain) == String(ConsumerSettings.fetchQueueBackoffMilliseconds))
        #expect(ConsumerSettings.fetchQueueBackoffMilliseconds < 100)
        let own = testConsumerSettings(["127.0.0.1:9092"], group: "g", properties: ["fetch.queue.backoff.ms": "500"])
        #expect(backoff(own) == "500")
        #expect(plain.validate().isEmpty && own.validate().isEmpty)
    }

    @Test func secretsAreNeverPrinted() {
        let secret = "hunter2-very-secret"
        let client = ClientSettings(bootstrapServers: ["b:9092"],
                                    properties: ["sasl.password": secret, "ssl.key.password": secret,
                                                 "sasl.username": "alice", "fetch.wait.max.ms": "soon"])
        let settings = ProducerSettings(client: client)
        #expect(!settings.description.contains(secret))
        #expect(settings.description.contains("sasl.username=alice"))
        #expect(settings.description.contains("sasl.password=[redacted]"))
        let problems = settings.validate()
        #expect(problems.map(\.key) == ["fetch.wait.max.ms"])
        #expect(!"\(KafkaError(code: .configuration, detail: "x", problems: problems))".contains(secret))
    }

    @Test func producerManagedKeysAreRefused() {
        let settings = ProducerSettings(client: ClientSettings(bootstrapServers: ["b:9092"],
                                                               properties: ["enable.idempotence": "false"]))
        #expect(settings.validate().map(\.key) == ["enable.idempotence"])
    }
}

@Suite struct PartitionerTests {
    /// Kafka's own test vectors for `Utils.murmur2` (UtilsTest.testMurmur2).
    @Test(arguments: [
        ("21", Int32(-973_932_308)),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func javaMurmur2MatchesKafkaVectors(input: String, expected: Int32) {
        #expect(javaMurmur2(Array(input.utf8)) == expected)
        // The partition Vigil picks itself (frames) is the one Java's partitioner gives.
        #expect(KafkaPartitioner.murmur2(input, partitions: Int32.max) == (expected & 0x7fff_ffff) % Int32.max)
    }

    /// `KafkaPartitioner` (librdkafka's murmur2, called directly) agrees with Java's placement
    /// for keys of every length and the partition counts topics have.
    @Test func vigilsOwnPlacementIsJavasForAnyKeyAndPartitionCount() {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<64 {
            for _ in 0..<20 {
                let key = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                for partitions: Int32 in [1, 2, 3, 4, 8, 12, 100, 1_000] {
                    #expect(KafkaPartitioner.murmur2(key, partitions: partitions) == javaPartition(key, partitions: partitions))
                }
            }
        }
        let ip = "203.0.113.9"
        #expect(KafkaPartitioner.murmur2(ip, partitions: 8) == javaPartition(Array(ip.utf8), partitions: 8))
    }
}
