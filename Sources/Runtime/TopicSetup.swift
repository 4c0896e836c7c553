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
}
