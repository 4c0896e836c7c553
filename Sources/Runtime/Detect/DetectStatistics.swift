/// Counts of the detect stage since it started.
public struct DetectStatistics: StageStatistics, Equatable {
    /// Repartition events taken (a frame counts its events) and gap notices.
    public var records = 0
    /// Events that could not be rebuilt (a record not written by Vigil's ingest, or damaged; a
    /// frame's damaged event alone): they go to the dead-letter topic with the reason, as raw
    /// records do.
    public var undecodable = 0
    /// Events the state already held, skipped (not evaluated again): read again
    /// after a restore whose state was ahead of the committed offsets, or a raw event ingest
    /// produced twice (Runtime README, "Idempotent state").
    public var duplicates = 0
    /// Gap notices read (``RepartitionGap``: an ingest attempt ended on a failed delivery).
    public var gapNotices = 0
    /// Alerts (and dedup summaries) handed to the producer, and acknowledged by the broker.
    public var alerts = 0
    public var alertsAcknowledged = 0
    /// Alerts emitted by idle advances of the watermark (no input record).
    public var idleAlerts = 0
    public var deliveryFailures = 0
    /// Changelog records produced (entries, tombstones, clocks) and state entries that could
    /// not be encoded (skipped; their key's state is then not durable).
    public var changelogRecords = 0
    public var changelogUnwritable = 0
    /// A partition's records in a batch whose offsets waited for a later diff (at most one
    /// diff per partition per commit interval, and one on revoke).
    public var changelogDeferred = 0
    /// Partitions whose state was restored from the changelog on assignment, the entries
    /// restored, and changelog records or entries that could not be restored (counted, skipped).
    public var partitionsRestored = 0
    public var entriesRestored = 0
    public var restoreSkipped = 0
    /// Entries restored under another worker count than written under, without the route of
    /// the records that made them (written before entries carried it): placed by their old
    /// worker's number, maybe not where their key's records now go.
    public var entriesUnrouted = 0
    /// Rule-set reloads that swapped a new set in, and those refused (the old set kept running).
    public var rulesReloaded = 0
    public var rulesRefused = 0

    public init() {}
}
