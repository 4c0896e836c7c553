/// Turns raw records into outcomes. Every record yields at least one
/// outcome; a batch record yields one per element.
///
/// - Important: decoders hold parser state and are not thread-safe; give each
///   worker its own.
public protocol AuditDecoder {
    /// Appends the outcomes of one record to `outcomes` (which callers reuse).
    func decode(_ record: [UInt8], into outcomes: inout [DecodeOutcome])
}

extension AuditDecoder {
    /// The outcomes of one record.
    public func decode(_ record: [UInt8]) -> [DecodeOutcome] {
        var outcomes: [DecodeOutcome] = []
        decode(record, into: &outcomes)
        return outcomes
    }

    public func decode(_ text: String) -> [DecodeOutcome] {
        decode(Array(text.utf8))
    }
}
