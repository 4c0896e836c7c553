/// The decoder for every supported source: the format is chosen per topic
/// (``SourceFormat``), and `auto` detects each record's shape.
///
/// Shapes: an `audit.k8s.io` Event (EKS or self-managed, with or without
/// Panther `p_*` fields); a CloudWatch Logs subscription batch; an Azure
/// diagnostic record or an Event Hubs `{"records": [...]}` batch; a Cloud
/// Audit Log entry; an ECS process event.
///
/// - Important: not thread-safe (it owns two simdjson parsers); one per worker.
public final class AuditRecordDecoder: AuditDecoder {
    public let format: SourceFormat
    public let options: DecoderOptions
    /// Parses records.
    let outer: SimdJSONParser
    /// Parses JSON embedded in strings (AKS `properties.log`, CloudWatch `message`).
    let inner: SimdJSONParser
    /// Repeated strings, shared across the events this decoder makes (the
    /// tables of ``stringCache``, which owns them).
    let strings: StringTables
    private let stringCache: StringCache
    /// Repeated event parts (users, objects, responses, annotations).
    let parts: PartCaches
    /// The members of the largest picks (``autoTree``, ``ecsTree``), picked
    /// into buffers reused per record.
    let pickScratch = PickScratch(capacity: 512)
    /// AKS: the last `resourceId` and its cluster (a topic's records nearly
    /// all name the same cluster).
    var lastResourceID: [UInt8] = []
    var lastAKSCluster: String?
    /// Whether a plain AKS diagnostic record is read without building its
    /// document (``SimdJSONParser/parse(_:readingAzure:_:)``,
    /// ``DecoderOptions/readsAzureEnvelopes``): for the formats that take one,
    /// unless raw paths are extracted (they may name the envelope's members).
    public let readsAzureRecords: Bool
    /// The trees, specs and empty parts read for every record.
    let statics = Statics()

    /// The pick trees and part specs the decoder reads for every record, and
    /// the empty parts every event starts from, held by the decoder: a
    /// `static let` (or a global) is read through its lazy initializer's
    /// check (`swift_once`, a call) each time, a stored copy with one load.
    struct Statics {
        let autoTree = AuditRecordDecoder.autoTree
        let eventTree = AuditRecordDecoder.eventTree
        let recordTree = AuditRecordDecoder.recordTree
        let ecsTree = AuditRecordDecoder.ecsTree
        let ecsVariants = AuditRecordDecoder.ecsVariants
        let eventPartsSpec = AuditRecordDecoder.eventPartsSpec
        let sourceIPsSpec = AuditRecordDecoder.sourceIPsSpec
        let entryPartsSpec = AuditRecordDecoder.entryPartsSpec
        let noParts = AuditEvents.noParts
    }

    public init(format: SourceFormat = .auto, options: DecoderOptions = DecoderOptions()) throws(AuditEventsError) {
        guard options.maxRecordBytes > 0, (2...DecoderOptions.maxNesting).contains(options.maxDepth) else {
            throw AuditEventsError(code: .invalidOption,
                                   detail: "maxRecordBytes must be > 0 and maxDepth in 2...\(DecoderOptions.maxNesting)")
        }
        guard let outer = SimdJSONParser(maxCapacity: options.maxRecordBytes, maxDepth: options.maxDepth),
              let inner = SimdJSONParser(maxCapacity: options.maxRecordBytes, maxDepth: options.maxDepth)
        else {
            throw AuditEventsError(code: .parserUnavailable, detail: "could not allocate a JSON parser")
        }
        self.format = format
        self.options = options
        self.outer = outer
        self.inner = inner
        self.stringCache = StringCache(slots: options.stringCacheSlots)
        self.strings = stringCache.tables
        self.parts = PartCaches(slots: options.stringCacheSlots > 0 ? 1024 : 0)
        self.readsAzureRecords = options.readsAzureEnvelopes && (format == .auto || format == .aks)
            && options.extractedPaths.isEmpty
    }

    enum Shape {
        case kubernetesEvent(LogType)
        case cloudWatchBatch
        case azureRecord
        case azureBatch
        case gcpEntry
        case ecsProcess
        case unknown
    }

    /// Spare capacity (bytes allocated past the content, any values) that lets
    /// ``decode(_:into:)`` parse a record where it lies instead of copying it
    /// first: KafkaIO's consumer records have it; ``padded(_:)`` makes it.
    public static let recordPadding = SimdJSONParser.padding

    /// `bytes` in an array with ``recordPadding`` bytes of spare capacity.
    public static func padded(_ bytes: some Collection<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count + recordPadding) { buffer, count in
            count = buffer.initialize(fromContentsOf: bytes)
        }
    }

    public func decode(_ record: [UInt8], into outcomes: inout [DecodeOutcome]) {
        if record.isEmpty {
            outcomes.append(.skipped(DecodeIssue(.emptyRecord, "empty payload")))
            return
        }
        if record.count > options.maxRecordBytes {
            outcomes.append(.deadLetter(DecodeIssue(
                .tooLarge, "\(record.count) bytes exceeds the limit of \(options.maxRecordBytes)")))
            return
        }
        let root: JSONNode
        let parsed = outer.parse(record, readingAzure: readsAzureRecords) { azure in
            if azure.isBatch {
                for position in 0..<azure.count {
                    outcomes.append(decodeAzureRecord(azure[position], record: record, position: position))
                }
            } else {
                outcomes.append(decodeAzureRecord(azure[0], record: record, position: nil))
            }
        }
        switch parsed {
        case .parsed(let node): root = node
        case .azure: return
        case .failed(let failure):
            outcomes.append(.deadLetter(Self.issue(for: failure, what: "record")))
            return
        }
        guard root.kind == .object else {
            outcomes.append(.deadLetter(DecodeIssue(.notAnObject, "record is a JSON \(root.kind), not an object")))
            return
        }
        switch format {
        case .auto, .eks, .kubernetes, .gke:
            // One walk over the record's members (and those of the objects
            // an audit Event or a Cloud Audit Log entry nests) serves
            // detection and the event's fields.
            let picked = pickScratch.begin(root, statics.autoTree)
            defer { pickScratch.end(picked) }
            decodePicked(picked.fields, root: root, record: record, into: &outcomes)
        case .aks:
            dispatch(root.field("records")?.kind == .array ? .azureBatch : .azureRecord, root: root, record: record,
                     into: &outcomes)
        case .process:
            dispatch(.ecsProcess, root: root, record: record, into: &outcomes)
        }
    }

    /// The record's shape and, for an audit Event or a Cloud Audit Log entry, its event,
    /// from the members ``autoTree`` picked.
    private func decodePicked(_ f: PickedFields, root: JSONNode, record: [UInt8], into outcomes: inout [DecodeOutcome]) {
        let detected: Shape
        switch format {
        case .eks: detected = f[ShapeKey.messageType] != nil ? .cloudWatchBatch : .kubernetesEvent(.eksAudit)
        case .kubernetes:
            detected = f[ShapeKey.messageType] != nil ? .cloudWatchBatch : .kubernetesEvent(.kubernetesAudit)
        case .gke: detected = .gcpEntry
        default: detected = detectShape(f)
        }
        switch detected {
        case .kubernetesEvent(let logType):
            var event = kubernetesEvent(logType, raw: rawJSON(record), f)
            finish(&event, document: root, envelope: nil)
            outcomes.append(.decoded(event))
        case .gcpEntry:
            outcomes.append(decodeGCPEntry(root, f, raw: record))
        case .azureRecord:
            let fields = AzureRecordFields(
                category: f[ShapeKey.category], log: f[ShapeKey.propertiesLog],
                resourceId: f[ShapeKey.resourceId], pSourceLabel: f[EventKey.pSourceLabel],
                time: f[ShapeKey.time])
            outcomes.append(decodeAzureRecord(
                root, fields, source: RecordSource(input: record, range: nil), position: nil))
        default:
            dispatch(detected, root: root, record: record, into: &outcomes)
        }
    }

    /// The shapes not decoded during the pick walk of ``decode(_:into:)`` (audit Events and
    /// Cloud Audit Log entries are: their fields come from that walk).
    private func dispatch(_ shape: Shape, root: JSONNode, record: [UInt8], into outcomes: inout [DecodeOutcome]) {
        switch shape {
        case .kubernetesEvent, .gcpEntry:
            preconditionFailure("\(shape) is decoded during decode(_:into:)'s pick walk")
        case .cloudWatchBatch:
            decodeCloudWatch(root, into: &outcomes)
        case .azureRecord:
            outcomes.append(decodeAzureRecord(root, source: RecordSource(input: record, range: nil), position: nil))
        case .azureBatch:
            decodeAzureBatch(root, record: record, into: &outcomes)
        case .ecsProcess:
            outcomes.append(decodeProcessEvent(root, raw: record))
        case .unknown:
            outcomes.append(.deadLetter(DecodeIssue(
                .unrecognizedFormat,
                "not an audit.k8s.io Event, CloudWatch batch, Azure record, Cloud Audit Log entry or ECS event")))
        }
    }

    /// Positions in ``autoTree`` of the keys detection reads: ``eventTree``'s
    /// keys first, at the same positions, so an audit Event's fields are
    /// read from the same walk; then the other shapes' keys (see
    /// ``EntryKey`` for a Cloud Audit Log entry's, ``AzureRecordFields``).
    enum ShapeKey: Int {
        case auditID = 0, sourceIPs = 15
        case requestURI = 4, verb = 3, objectRef = 7, responseStatus = 8, requestReceivedTimestamp = 10
        case pLogType = 31, messageType, logEvents, records, protoPayload, category, resourceId, properties
        case kind, process, processName, atTimestamp, ecs
        case labels, operation, insertId, resource, receiveTimestamp, time
        case propertiesLog
    }
    static let autoTree = PickTree(eventTreeKeys + [
        ("p_log_type", nil), ("messageType", nil), ("logEvents", nil), ("records", nil), ("protoPayload", nil),
        ("category", nil), ("resourceId", nil), ("properties", nil),
        ("kind", nil), ("process", nil), ("process.name", nil), ("@timestamp", nil), ("ecs", nil),
        ("labels", nil), ("operation", nil), ("insertId", nil), ("resource", nil), ("receiveTimestamp", nil),
        ("time", nil),
        ("log", ShapeKey.properties.rawValue),
        ("serviceName", EntryKey.protoPayload.rawValue), ("authenticationInfo", EntryKey.protoPayload.rawValue),
        ("requestMetadata", EntryKey.protoPayload.rawValue), ("methodName", EntryKey.protoPayload.rawValue),
        ("resourceName", EntryKey.protoPayload.rawValue), ("status", EntryKey.protoPayload.rawValue),
        ("principalEmail", EntryKey.authenticationInfo.rawValue),
        ("callerIp", EntryKey.requestMetadata.rawValue), ("callerIP", EntryKey.requestMetadata.rawValue),
        ("callerSuppliedUserAgent", EntryKey.requestMetadata.rawValue),
        ("code", EntryKey.status.rawValue), ("message", EntryKey.status.rawValue),
        ("authorization.k8s.io/decision", EntryKey.labels.rawValue),
        ("authorization.k8s.io/reason", EntryKey.labels.rawValue),
        ("id", EntryKey.operation.rawValue),
        ("labels", EntryKey.resource.rawValue), ("cluster_name", EntryKey.resourceLabels.rawValue),
    ])

    /// Content-based detection, from the keys of the record (one pass).
    private func detectShape(_ f: PickedFields) -> Shape {
        if let declared = f[ShapeKey.pLogType] {
            if declared.stringEquals("Amazon.EKS.Audit") { return .kubernetesEvent(.eksAudit) }
            if declared.stringEquals("Azure.MonitorActivity") { return .azureRecord }
            if declared.stringEquals("GCP.AuditLog") { return .gcpEntry }
        }
        if let type = f[ShapeKey.messageType],
           f[ShapeKey.logEvents] != nil || type.stringEquals("CONTROL_MESSAGE") {
            return .cloudWatchBatch
        }
        if f[ShapeKey.records]?.kind == .array { return .azureBatch }
        if f[ShapeKey.protoPayload] != nil { return .gcpEntry }
        if f[ShapeKey.category] != nil || f[ShapeKey.resourceId] != nil || f[ShapeKey.propertiesLog] != nil {
            return .azureRecord
        }
        if f[ShapeKey.kind]?.stringEquals("Event") == true || f[ShapeKey.auditID] != nil
            || f[ShapeKey.sourceIPs] != nil || f[ShapeKey.objectRef] != nil || f[ShapeKey.requestURI] != nil
            || f[ShapeKey.verb] != nil || f[ShapeKey.responseStatus] != nil
            || f[ShapeKey.requestReceivedTimestamp] != nil {
            return .kubernetesEvent(.kubernetesAudit)
        }
        if f[ShapeKey.process] != nil || f[ShapeKey.processName] != nil || f[ShapeKey.atTimestamp] != nil
            || f[ShapeKey.ecs] != nil {
            return .ecsProcess
        }
        return .unknown
    }

    /// An event's raw document: `bytes`, or none when the options keep no raw documents.
    func rawJSON(_ bytes: @autoclosure () -> [UInt8]) -> RawJSON {
        options.keepRaw ? RawJSON(bytes()) : RawJSON([UInt8]())
    }

    /// Extracted paths, and the warnings every event shares.
    func finish(_ event: inout AuditEvent, document: JSONNode, envelope: JSONNode?) {
        if event.time == nil && !event.warnings.contains(.invalidTime) { event.warnings.insert(.missingTime) }
        if event.cluster == nil, let label = options.clusterLabel { event.cluster = label }
        if !options.extractedPaths.isEmpty {
            event.extracted = options.extractedPaths.map { path in
                path.resolve(in: document) ?? envelope.flatMap { path.resolve(in: $0) }
            }
        }
    }

    static func issue(for failure: SimdJSONParser.Failure, what: String, position: Int? = nil) -> DecodeIssue {
        switch failure {
        case .capacity: return DecodeIssue(.tooLarge, "\(what) larger than the parser's limit", position: position)
        case .depth: return DecodeIssue(.tooDeep, "\(what) nested deeper than the limit", position: position)
        case .utf8: return DecodeIssue(.invalidUTF8, "\(what) is not valid UTF-8", position: position)
        case .empty: return DecodeIssue(.malformedJSON, "\(what) holds no JSON value", position: position)
        case .syntax: return DecodeIssue(.malformedJSON, "\(what) is not valid JSON (or is truncated)", position: position)
        case .memory, .internalError:
            return DecodeIssue(.parserFailure, "parser failed on \(what): \(failure)", position: position)
        }
    }
}
