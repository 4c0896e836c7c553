import AuditEvents
import Enrichment
import Foundation
import KafkaIO
import Metrics

/// Decodes, enriches and encodes the raw records given to it (``encode(_:)``); what they
/// cause is then registered and produced in batch order (``produce(_:)``). Owns one decoder
/// per source topic.
///
/// - Important: `encode` is used by one task at a time: the stage gives each worker its own
///   contiguous part of a batch and waits for all of them before producing and taking the
///   next batch (that is why the `@unchecked Sendable` is safe; decoders are not thread-safe).
final class IngestWorker: @unchecked Sendable {
    /// A source topic's decoder and its `vigil_ingest_records_total` and
    /// `vigil_dead_letters_total` counters: one lookup per record, made once.
    private struct Source {
        let decoder: AuditRecordDecoder
        let decoded: Counter
        let deadLetter: Counter
        let skipped: Counter
        /// `vigil_oversized_records_total`: records over `limits.max_record_bytes` (dead-lettered).
        let oversized: Counter
        let deadLetterReasons: [DecodeIssue.Reason: Counter]

        init(topic: String, decoder: AuditRecordDecoder) {
            self.decoder = decoder
            decoded = Self.counter(topic: topic, "decoded")
            deadLetter = Self.counter(topic: topic, "dead_letter")
            skipped = Self.counter(topic: topic, "skipped")
            oversized = Counter(label: "vigil_oversized_records_total", dimensions: [("topic", topic)])
            deadLetterReasons = DeadLetterRecord.counters(topic: topic)
        }

        static func counter(topic: String, _ outcome: String) -> Counter {
            Counter(label: "vigil_ingest_records_total", dimensions: [("topic", topic), ("outcome", outcome)])
        }
    }

    /// `vigil_ingest_events_total{log_type}`, made once per log type.
    private static let eventCounters: [LogType: Counter] = Dictionary(uniqueKeysWithValues: LogType.allCases.map {
        ($0, Counter(label: "vigil_ingest_events_total", dimensions: [("log_type", $0.rawValue)]))
    })

    private let topology: Topology
    /// The repartition topic's partitions (as the broker has them): frames are placed by
    /// their events' keys among them.
    private let partitions: Int32
    private let sources: [String: Source]
    /// The enricher behind a memo of recent addresses' answers (this worker's alone).
    private let enricher: EnrichmentMemo
    private let documents: DocumentPolicy
    private let shared: IngestShared
    private var outcomes: [DecodeOutcome] = []
    private let eventCounters = IngestWorker.eventCounters

    /// `partitions`: the repartition topic's partition count (the configured one when not given).
    init(topology: Topology, enricher: Enricher, documents: DocumentPolicy, shared: IngestShared,
         partitions: Int? = nil) throws(RuntimeError) {
        var sources: [String: Source] = [:]
        for source in topology.sources {
            do {
                sources[source.topic] = Source(topic: source.topic,
                                               decoder: try AuditRecordDecoder(format: source.format,
                                                                               options: topology.decoderOptions(for: source)))
            } catch {
                throw RuntimeError(code: .invalidTopology, detail: "decoder for \(source.topic): \(error)")
            }
        }
        self.topology = topology
        self.partitions = Int32(clamping: max(partitions ?? topology.topics.repartition.partitions, 1))
        self.sources = sources
        self.enricher = EnrichmentMemo(enricher: enricher)
        self.documents = documents
        self.shared = shared
    }

    /// What raw records caused: each input with how many of `outputs` carry something of it,
    /// and the outputs (repartition records — frames or single events — and dead letters,
    /// encoded, not yet produced), a partition's in the order its events came.
    struct Encoded {
        /// Each input's partition and offset (not the record: the tracker needs no more, and
        /// a copy of the record retained its arrays once more per input).
        var inputs: [(partition: TopicPartition, offset: Int64, outputs: Int)] = []
        var outputs: [Output] = []
    }

    struct Output {
        var record: ProducerRecord
        var deadLetter: Bool
        /// The first input (index into ``Encoded/inputs``) whose events or dead letter it carries,
        /// and for a frame the others (kept apart: a single event or dead letter, one per raw
        /// record in the version-2 path, then allocates no list).
        var input: Int
        var moreInputs: [Int] = []
        /// Events it carries (0 for a dead letter).
        var events: Int

        /// Every input it carries something of.
        var inputs: [Int] { [input] + moreInputs }
    }

    /// Decodes, enriches and encodes records (the CPU part of ingest; no registration, nothing
    /// produced). Several workers encode contiguous parts of one batch in parallel; the
    /// results are then handed to ``IngestProcessor/produce(_:)`` in batch order.
    func encode(_ records: ArraySlice<ConsumerRecord>) -> Encoded {
        let repartition = topology.topics.repartition.name
        let deadLetter = topology.topics.deadLetter.name
        var encoded = Encoded()
        encoded.inputs.reserveCapacity(records.count)
        encoded.outputs.reserveCapacity(records.count)
        // Taken once per slice: a rules change applies from the next one.
        let carried = documents.carried
        let frameEvents = topology.topics.repartition.frameEvents
        // One open frame per repartition partition (by index), with the inputs it carries events of.
        var frames = [(frame: RepartitionFrame, inputs: [Int])?](repeating: nil, count: frameEvents > 1 ? Int(partitions) : 0)
        func close(_ partition: Int) {
            guard let open = frames[partition] else { return }
            frames[partition] = nil
            encoded.outputs.append(Output(record: open.frame.record(topic: repartition), deadLetter: false,
                                          input: open.inputs[0], moreInputs: Array(open.inputs.dropFirst()),
                                          events: open.frame.count))
        }
        // Events per log type and the stage's totals, added once per slice (not per event or
        // record: the totals' lock is shared with the other encoders and the delivery callbacks).
        var eventsByType = [Int](repeating: 0, count: 8)  // by `LogType.compactCode`
        var totals = (records: 0, events: 0, deadLettered: 0, skipped: 0, oversized: 0)
        enricher.begin()  // the GeoIP and Tor data current now, for the whole slice
        defer {
            enricher.end()
            for type in LogType.allCases where eventsByType[Int(type.compactCode)] > 0 {
                eventCounters[type]?.increment(by: eventsByType[Int(type.compactCode)])
            }
            shared.update {
                $0.records += totals.records
                $0.events += totals.events
                $0.deadLettered += totals.deadLettered
                $0.skipped += totals.skipped
                $0.oversized += totals.oversized
            }
        }
        var lastSource: (topic: String, source: Source?) = ("", nil)
        for record in records {
            outcomes.removeAll(keepingCapacity: true)
            // The last record's source again while the topic is the same (a slice's records come
            // in runs of one partition; the consumer hands out one String per topic, so `==` is a
            // pointer compare): hashing the topic name per record was ~1 % of `vigil run`.
            if record.topic != lastSource.topic { lastSource = (record.topic, sources[record.topic]) }
            let source = lastSource.source
            if let source {
                source.decoder.decode(record.value ?? [], into: &outcomes)
            } else {
                outcomes.append(.deadLetter(DecodeIssue(.unrecognizedFormat, "topic \(record.topic) is not a configured source")))
            }
            var events = 0, deadLettered = 0, skipped = 0, oversized = 0, outputs = 0
            let input = encoded.inputs.count
            let several = outcomes.count > 1
            for (index, outcome) in outcomes.enumerated() {
                switch outcome {
                case .decoded(let event):
                    let enrichment = enricher.enrich(sourceIPs: event.sourceIPs, at: event.time?.date)
                    let origin = RawOrigin(record, index: several ? index : nil)
                    let documents = DocumentPolicy.carries(carried, event.logType)
                    if frameEvents <= 1 {
                        encoded.outputs.append(Output(record: RepartitionCodec.encode(event, enrichment: enrichment, origin: origin,
                                                                                      arrival: record.timestamp?.milliseconds,
                                                                                      documents: documents, topic: repartition),
                                                      deadLetter: false, input: input, events: 1))
                        outputs += 1
                    } else {
                        let key = RepartitionCodec.key(for: event)
                        let p = Int(Self.partition(of: key, input: record.offset, among: partitions))
                        // An event that would take the open frame past `RepartitionFrame.maxBytes` starts a new one.
                        if let open = frames[p],
                           open.frame.byteCount + RepartitionCodec.capacity(event, documents: documents) > RepartitionFrame.maxBytes {
                            close(p)
                        }
                        if frames[p] == nil { frames[p] = (RepartitionFrame(partition: Int32(p), events: frameEvents), []) }
                        frames[p]!.frame.append(event, enrichment: enrichment, origin: origin,
                                                arrival: record.timestamp?.milliseconds, documents: documents, key: key)
                        if frames[p]!.inputs.last != input {
                            frames[p]!.inputs.append(input)
                            outputs += 1
                        }
                        if frames[p]!.frame.count >= frameEvents || frames[p]!.frame.byteCount >= RepartitionFrame.maxBytes { close(p) }
                    }
                    events += 1
                    eventsByType[Int(event.logType.compactCode)] += 1
                case .deadLetter(let issue):
                    encoded.outputs.append(Output(record: DeadLetterRecord.make(for: record, issue: issue, topic: deadLetter),
                                                  deadLetter: true, input: input, events: 0))
                    outputs += 1
                    deadLettered += 1
                    if issue.reason == .tooLarge { oversized += 1 }
                    (source?.deadLetterReasons[issue.reason]
                        ?? Counter(label: "vigil_dead_letters_total", dimensions: [("topic", record.topic),
                                                                                   ("reason", issue.reason.rawValue)]))
                        .increment()
                case .skipped:
                    skipped += 1
                }
            }
            if let source {
                if events > 0 { source.decoded.increment(by: events) }
                if deadLettered > 0 { source.deadLetter.increment(by: deadLettered) }
                if skipped > 0 { source.skipped.increment(by: skipped) }
                if oversized > 0 { source.oversized.increment(by: oversized) }
            } else {
                // Not a subscribed topic (cannot happen while the consumer reads only the sources).
                Source.counter(topic: record.topic, "dead_letter").increment(by: deadLettered)
            }
            totals.records += 1
            totals.events += events
            totals.deadLettered += deadLettered
            totals.skipped += skipped
            totals.oversized += oversized
            encoded.inputs.append((record.topicPartition, record.offset, outputs))
        }
        for partition in frames.indices { close(partition) }
        return encoded
    }

    /// The repartition partition of an event: where the producer's partitioner puts its key
    /// (``KafkaPartitioner``); a keyless event (no per-key state) by its input's offset.
    static func partition(of key: String?, input offset: Int64, among partitions: Int32) -> Int32 {
        guard let key else { return Int32(truncatingIfNeeded: offset & 0x7fff_ffff) % partitions }
        return KafkaPartitioner.murmur2(key, partitions: partitions)
    }
}
