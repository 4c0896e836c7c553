import KafkaIO
import Logging

/// Creates Vigil's own topics (repartition, alerts, dead letter, compacted changelog) when
/// missing. Raw topics belong to the log shippers and are not created.
public enum TopicSetup {
    public static func ensure(_ topology: Topology, logger: Logger) async throws(RuntimeError) {
        do {
            let admin = try KafkaAdmin(settings: topology.clientSettings, logger: logger)
            let outcomes = try await admin.createTopics(topology.outputTopics)
            for case .created(let name) in outcomes {
                logger.info("created topic", metadata: ["topic": "\(name)"])
            }
        } catch {
            throw RuntimeError(error, "creating topics")
        }
    }

    /// The partitions `topic` has on the broker; nil when it cannot be told (logged).
    static func partitions(of topic: String, _ topology: Topology, logger: Logger) async -> Int? {
        do {
            let admin = try KafkaAdmin(settings: topology.clientSettings, logger: logger)
            let found = try await admin.describeTopics([topic], timeout: .seconds(10)).first?.partitions.count
            if let found, found != topology.topics.repartition.partitions, topic == topology.topics.repartition.name {
                logger.warning("the repartition topic has another partition count than the topology says; events are placed among the topic's",
                               metadata: ["topic": "\(topic)", "partitions": "\(found)",
                                          "configured": "\(topology.topics.repartition.partitions)"])
            }
            return found
        } catch {
            logger.warning("could not read the topic's partition count; using the topology's",
                           metadata: ["topic": "\(topic)", "error": "\(error)"])
            return nil
        }
    }
}
