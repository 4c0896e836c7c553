import AuditEvents
import Enrichment
import KafkaIO

extension Topology {
    /// The shared client settings (bootstrap, client id, statistics, pass-through properties).
    public var clientSettings: ClientSettings {
        ClientSettings(bootstrapServers: kafka.bootstrapServers, clientID: kafka.clientID,
                       statisticsInterval: kafka.statisticsInterval, properties: kafka.properties)
    }

    /// A stage's consumer group.
    public func group(of stage: Stage) -> String {
        switch stage {
        case .ingest: kafka.ingestGroup
        case .detect: kafka.detectGroup
        }
    }

    /// A stage's consumer: its group, liveness intervals, commit interval and the stage's buffer bounds.
    public func consumerSettings(for stage: Stage) -> ConsumerSettings {
        ConsumerSettings(client: clientSettings, groupID: group(of: stage),
                         autoOffsetReset: OffsetReset(rawValue: kafka.autoOffsetReset) ?? .earliest,
                         sessionTimeout: kafka.sessionTimeout, maxPollInterval: kafka.maxPollInterval,
                         heartbeatInterval: kafka.heartbeatInterval, autoCommitInterval: kafka.commitInterval,
                         bufferCapacity: limits.consumerBuffer[stage], maxBatchSize: limits.maxBatch[stage], fetchWait: kafka.fetchWait)
    }

    /// The producer every stage writes with (idempotent, bounded in flight).
    public func producerSettings() -> ProducerSettings {
        ProducerSettings(client: clientSettings, maxInFlight: limits.maxInFlight,
                         deliveryTimeout: kafka.deliveryTimeout, linger: kafka.linger, compression: kafka.compression)
    }

    /// Decoder options for one source topic.
    public func decoderOptions(for source: Source) -> DecoderOptions {
        DecoderOptions(maxRecordBytes: limits.maxRecordBytes, maxDepth: limits.maxDepth, clusterLabel: source.cluster)
    }

    /// Vigil's own topics as they are created when missing (the changelog compacted).
    public var outputTopics: [NewTopic] {
        let r = Int32(topics.replicationFactor)
        return [
            NewTopic(name: topics.repartition.name, partitions: Int32(topics.repartition.partitions), replicationFactor: r),
            NewTopic(name: topics.alerts.name, partitions: Int32(topics.alerts.partitions), replicationFactor: r),
            NewTopic(name: topics.deadLetter.name, partitions: Int32(topics.deadLetter.partitions), replicationFactor: r),
            NewTopic(name: topics.changelog.name, partitions: Int32(topics.changelog.partitions), replicationFactor: r,
                     configs: ["cleanup.policy": "compact"]),
        ]
    }
}

extension Topology.EnrichmentSection.GeoIP {
    /// The GeoLocator's configuration.
    public var locatorConfiguration: GeoLocator.Configuration {
        var c = GeoLocator.Configuration(path: path, language: language)
        c.cacheCapacity = cacheSize
        c.reloadCheckInterval = reloadCheck
        return c
    }
}

extension Topology.EnrichmentSection.Tor {
    /// The TorExitList's configuration.
    public var listConfiguration: TorExitList.Configuration {
        var c = TorExitList.Configuration(source: TorExitSource(source), stateFile: stateFile)
        c.refreshInterval = interval
        c.maximumAge = maxAge
        c.retention = retention
        return c
    }
}
