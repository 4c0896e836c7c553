import Detection
import KafkaIO

/// The alerts-topic record of an alert: keyed by rule and group key (an alert and its dedup
/// summary land on one partition, in order), the alert's JSON line as value.
///
/// Headers: `vigil-alert-id`, `vigil-rule-id`, `vigil-alert-kind` (`alert` / `dedup_summary`),
/// `vigil-severity`. Timestamp: the alert's last_seen.
public enum AlertRecord {
    /// `rule id` + `/` + the group-key values (`name=v1,v2;...`); a rule without group-by
    /// (every match its own alert) is keyed by the alert id.
    public static func key(for alert: Alert) -> String {
        guard !alert.groupKey.isEmpty else { return alert.ruleID + "/" + alert.id }
        return alert.ruleID + "/" + alert.groupKey.map { field in
            field.name + "=" + field.values.map(\.text).joined(separator: ",")
        }.joined(separator: ";")
    }

    public static func make(_ alert: Alert, topic: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: Array(key(for: alert).utf8), value: Array(alert.json.utf8),
                       headers: [
                           KafkaHeader(key: "vigil-alert-id", string: alert.id),
                           KafkaHeader(key: "vigil-rule-id", string: alert.ruleID),
                           KafkaHeader(key: "vigil-alert-kind", string: alert.kind.rawValue),
                           KafkaHeader(key: "vigil-severity", string: alert.severity.rawValue),
                       ],
                       timestampMilliseconds: alert.lastSeen.milliseconds)
    }
}
