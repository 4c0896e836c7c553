/// Per-topic decoder settings.
public struct DecoderOptions: Sendable, Hashable {
    /// Records larger than this are dead-lettered (`too_large`). Default 1 MiB.
    public var maxRecordBytes: Int
    /// JSON nested deeper than this is dead-lettered (`too_deep`). Default 128, at most
    /// ``maxNesting``.
    public var maxDepth: Int
    /// The most `maxDepth` may be. Extracted values, raw-field reads and the JSON writer
    /// recurse once a level: 2,000 levels ran on a worker thread in a debug build, 4,000
    /// overflowed its stack (no audit event comes near 100).
    public static let maxNesting = 1024
    /// The cluster name for events whose record does not carry one (EKS).
    /// Record-level names (`p_source_label`, AKS resourceId, GKE label) win.
    public var clusterLabel: String?
    /// Raw fields to copy into ``AuditEvent/extracted`` during the one parse,
    /// in this order: the fields rules name that the model does not.
    public var extractedPaths: [FieldPath]
    /// Keep the raw document bytes in ``AuditEvent/raw`` (on by default).
    public var keepRaw: Bool
    /// Slots of the decoder's cache of repeated strings (user names, groups,
    /// user agents, cluster labels, reasons); 0 turns it off. Default 4096.
    public var stringCacheSlots: Int
    /// Read a plain AKS diagnostic record (one per Kafka record, its envelope all
    /// strings) from the parser's first stage, without building the envelope's
    /// document, and unescape `properties.log` 64 bytes a step (AVX-512 VBMI2). The
    /// same events either way; on by default, off to compare.
    public var readsAzureEnvelopes: Bool

    public init(
        maxRecordBytes: Int = 1 << 20,
        maxDepth: Int = 128,
        clusterLabel: String? = nil,
        extractedPaths: [FieldPath] = [],
        keepRaw: Bool = true,
        stringCacheSlots: Int = 4096,
        readsAzureEnvelopes: Bool = true
    ) {
        self.maxRecordBytes = maxRecordBytes
        self.maxDepth = maxDepth
        self.clusterLabel = clusterLabel
        self.extractedPaths = extractedPaths
        self.keepRaw = keepRaw
        self.stringCacheSlots = stringCacheSlots
        self.readsAzureEnvelopes = readsAzureEnvelopes
    }
}
