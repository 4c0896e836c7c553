/// simdjson alone: parses a record and touches nothing. Benchmarks compare
/// the decoder against it on the same bytes (``AuditRecordDecoder`` adds field
/// extraction, string copies and the event value).
///
/// - Important: not thread-safe; one per thread.
public final class ParseOnlyBaseline {
    private let parser: SimdJSONParser

    public init(maxRecordBytes: Int = 1 << 20) throws(AuditEventsError) {
        guard let parser = SimdJSONParser(maxCapacity: maxRecordBytes, maxDepth: 1024) else {
            throw AuditEventsError(code: .parserUnavailable, detail: "could not allocate a JSON parser")
        }
        self.parser = parser
    }

    /// True when `record` is valid JSON.
    public func parse(_ record: [UInt8]) -> Bool {
        if case .parsed = parser.parse(record) { return true }
        return false
    }
}
