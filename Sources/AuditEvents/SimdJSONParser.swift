import CSimdJSON

/// Owns one simdjson DOM parser (CSimdJSON) and the document it last parsed.
///
/// - Important: not thread-safe. A parser belongs to one decoder, or is lent
///   by ``ParserPool`` to one caller at a time; that exclusivity is why the
///   `@unchecked Sendable` below is safe.
final class SimdJSONParser: @unchecked Sendable {
    private let handle: OpaquePointer
    let maxDepth: Int

    enum Failure: Int32 {
        case capacity = 1, depth, utf8, empty, memory, syntax, internalError
    }

    enum Outcome {
        case parsed(JSONNode)
        case failed(Failure)
    }

    init?(maxCapacity: Int, maxDepth: Int) {
        guard let handle = vj_parser_create(max(maxCapacity, 1), max(maxDepth, 1)) else { return nil }
        self.handle = handle
        self.maxDepth = maxDepth
    }

    deinit { vj_parser_destroy(handle) }

    /// Parses `bytes`; earlier nodes of this parser become invalid. In place
    /// when their array has ``padding`` bytes of spare capacity (as KafkaIO's
    /// consumer records do), else from a copy.
    func parse(_ bytes: [UInt8]) -> Outcome {
        let inPlace = bytes.capacity - bytes.count >= Self.padding
        return bytes.withUnsafeBytes { buffer in
            var root = vj_value()
            let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            let code = inPlace
                ? vj_parse_in_place(handle, base, buffer.count, &root) : vj_parse(handle, base, buffer.count, &root)
            return Self.outcome(code, root)
        }
    }

    /// What ``parse(_:readingAzure:_:)`` made of a record.
    enum RecordOutcome {
        case parsed(JSONNode)
        /// Plain Azure diagnostic records (one, or an Event Hubs batch), read
        /// without their document and handed to the caller's closure.
        case azure
        case failed(Failure)
    }

    /// ``parse(_:)``, except that with `readingAzure` plain Azure diagnostic
    /// records (see `vj_parse_or_azure`) are read as their members' places and
    /// their `properties.log` strings unescaped, their document never built, and
    /// handed to `azure` while `bytes` are held (their members may point into them).
    func parse(_ bytes: [UInt8], readingAzure: Bool, _ azure: (AzureRecords) -> Void) -> RecordOutcome {
        guard readingAzure else {
            switch parse(bytes) {
            case .parsed(let node): return .parsed(node)
            case .failed(let failure): return .failed(failure)
            }
        }
        let inPlace = bytes.capacity - bytes.count >= Self.padding
        return bytes.withUnsafeBytes { buffer in
            var root = vj_value()
            var read = vj_azure_read()
            let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            switch vj_parse_or_azure(handle, base, buffer.count, inPlace, &read, &root) {
            case VJ_AZURE:
                azure(AzureRecords(read: read))
                return .azure
            case 0: return .parsed(JSONNode(value: root))
            case let code: return .failed(Failure(rawValue: code) ?? .internalError)
            }
        }
    }

    /// Parses `bytes`, which have ``padding`` bytes allocated past them, where they lie.
    func parse(padded bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        var root = vj_value()
        return Self.outcome(vj_parse_in_place(handle, bytes.baseAddress, bytes.count, &root), root)
    }

    /// Spare capacity past a record's bytes that lets ``parse(_:)`` skip its
    /// copy (simdjson may read that far, and never writes there).
    static let padding = Int(VJ_PADDING)

    /// Parses the JSON in `string`, a string value of another parser's
    /// document, in place (no copy when that document has room after it).
    func parse(embedded string: JSONNode) -> Outcome {
        var root = vj_value()
        return Self.outcome(vj_parse_embedded(handle, string.value, &root), root)
    }

    private static func outcome(_ code: Int32, _ root: vj_value) -> Outcome {
        code == 0 ? .parsed(JSONNode(value: root)) : .failed(Failure(rawValue: code) ?? .internalError)
    }

    /// Where `nodes` are in `input`, the bytes this parser last parsed
    /// (successfully): each container from its opening to its closing
    /// bracket, found by one walk of the parser's structural indexes beside
    /// its tape (nodes in document order). Nil when that walk does not match
    /// the tape; the caller then re-serializes the nodes.
    func byteRanges(of nodes: UnsafeBufferPointer<vj_value>, in input: UnsafeRawBufferPointer) -> [Range<Int>]? {
        guard let doc = nodes.first?.doc, let base = input.baseAddress else { return nodes.isEmpty ? [] : nil }
        let count = nodes.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * count) { scratch -> [Range<Int>]? in
            guard let positions = scratch.baseAddress else { return nil }
            let offsets = positions + 2 * count
            for (k, node) in nodes.enumerated() {
                guard node.doc == doc else { return nil }
                positions[2 * k] = node.index
                positions[2 * k + 1] = vj_container_end(node)
            }
            guard vj_byte_offsets(handle, doc, base.assumingMemoryBound(to: UInt8.self), input.count,
                                  positions, 2 * count, offsets) else { return nil }
            return (0..<count).map { k in offsets[2 * k]..<(offsets[2 * k + 1] + 1) }
        }
    }
}

/// The Azure diagnostic records ``SimdJSONParser/parse(_:readingAzure:_:)`` read:
/// one record, or the elements of an Event Hubs batch. Valid in that call's closure.
struct AzureRecords {
    let read: vj_azure_read

    var isBatch: Bool { read.batch }
    var count: Int { read.count }

    subscript(position: Int) -> AzureRecordSpans {
        AzureRecordSpans(read.records[position], base: read.base, logs: read.logs)
    }
}

/// One record of ``AzureRecords``: where its own JSON is in the input, and the
/// members the decoder reads as bytes (nil when absent; strings without escapes;
/// `properties.log` unescaped, with the parser's padding allocated past it).
struct AzureRecordSpans {
    let range: Range<Int>
    let category: UnsafeBufferPointer<UInt8>?
    let resourceID: UnsafeBufferPointer<UInt8>?
    let pSourceLabel: UnsafeBufferPointer<UInt8>?
    let time: UnsafeBufferPointer<UInt8>?
    let log: UnsafeBufferPointer<UInt8>?

    init(_ r: vj_azure_record, base: UnsafePointer<UInt8>?, logs: UnsafePointer<UInt8>?) {
        func bytes(_ span: vj_span, in buffer: UnsafePointer<UInt8>?) -> UnsafeBufferPointer<UInt8>? {
            guard span.length != Int(bitPattern: UInt.max), let buffer else { return nil }
            return UnsafeBufferPointer(start: buffer + span.start, count: span.length)
        }
        range = r.start..<r.end
        category = bytes(r.category, in: base)
        resourceID = bytes(r.resource_id, in: base)
        pSourceLabel = bytes(r.p_source_label, in: base)
        time = bytes(r.time, in: base)
        log = bytes(r.log, in: logs)
    }
}
