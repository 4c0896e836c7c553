import AuditEvents
import KafkaIO
import Metrics

/// The dead-letter record of a raw record that could not be decoded: the original key,
/// bytes and headers, plus where it came from and why it failed.
///
/// Headers added: `vigil-dlq-reason` (a ``DecodeIssue/Reason`` raw value), `vigil-dlq-detail`,
/// `vigil-dlq-position` (batch element), `vigil-source-topic`, `vigil-source-partition`,
/// `vigil-source-offset`.
public enum DeadLetterRecord {
    /// `vigil_dead_letters_total{topic, reason}` for every reason that dead-letters records of
    /// `topic` (made once per topic). A raw record dead-letters only for the reasons that are not
    /// skips; a repartition record for any (`includingSkips`): one without a value, or whose event
    /// decodes to a skip, goes to the dead-letter topic, since ingest wrote it as an event.
    static func counters(topic: String, includingSkips: Bool = false) -> [DecodeIssue.Reason: Counter] {
        Dictionary(uniqueKeysWithValues: DecodeIssue.Reason.allCases.filter { includingSkips || !$0.isSkip }.map {
            ($0, Counter(label: "vigil_dead_letters_total", dimensions: [("topic", topic), ("reason", $0.rawValue)]))
        })
    }

    public static func make(for record: ConsumerRecord, issue: DecodeIssue, topic: String) -> ProducerRecord {
        var headers = record.headers
        headers.reserveCapacity(headers.count + 6)
        for (key, value) in issue.headers { headers.append(KafkaHeader(key: key, string: value)) }
        RawOrigin(record).appendHeaders(to: &headers)
        return ProducerRecord(topic: topic, key: record.key, value: record.value ?? [], headers: headers,
                              timestampMilliseconds: record.timestamp?.milliseconds)
    }
}
