/// Counts of the ingest stage since it started (also exported as metrics).
public struct IngestStatistics: StageStatistics, Equatable {
    /// Raw records taken from the source topics.
    public var records = 0
    /// Events decoded and handed to the producer for the repartition topic.
    public var events = 0
    /// Events acknowledged by the broker on the repartition topic.
    public var eventsAcknowledged = 0
    /// Repartition records acknowledged (a frame of several events counts once).
    public var repartitionRecordsAcknowledged = 0
    /// Dead-letter records produced (one per dead-lettered outcome).
    public var deadLettered = 0
    /// Dead-letter records acknowledged by the broker.
    public var deadLettersAcknowledged = 0
    /// Outcomes skipped (tombstones, control messages, empty batches, other categories): counted only.
    public var skipped = 0
    /// Raw records over `limits.max_record_bytes` (dead-lettered with reason `too_large`).
    public var oversized = 0
    /// Produced records the broker did not acknowledge (the stage stops; their input stays uncommitted).
    public var deliveryFailures = 0

    public init() {}
}
