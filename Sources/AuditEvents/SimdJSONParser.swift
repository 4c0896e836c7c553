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

    /// Parses `bytes`; earlier nodes of this parser become invalid.
    func parse(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        var root = vj_value()
        let code = vj_parse(handle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &root)
        if code == 0 { return .parsed(JSONNode(value: root)) }
        return .failed(Failure(rawValue: code) ?? .internalError)
    }

    func parse(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBytes { parse($0) }
    }
}
