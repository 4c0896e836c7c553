import Synchronization

/// The bytes of the JSON document an event was decoded from, with read access
/// to any field by ``FieldPath``: rules may name fields the model does not.
///
/// For EKS, AKS and plain Kubernetes events this is the `audit.k8s.io` Event
/// itself (for AKS, the parsed `properties.log`); for GKE the Cloud Audit Log
/// entry; for process events the ECS document.
public struct RawJSON: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The value at `path`, or nil when absent (or the bytes are not JSON).
    ///
    /// Parses the document on each call (about a microsecond per KB); hot
    /// paths name their fields in ``DecoderOptions/extractedPaths`` instead.
    public func value(at path: FieldPath) -> JSONValue? {
        ParserPool.shared.withParser { parser in
            guard case .parsed(let root) = parser.parse(bytes) else { return nil }
            return path.resolve(in: root)
        }
    }

    /// The value at a path written as text; nil when absent or the path is invalid.
    public func value(at path: String) -> JSONValue? {
        guard let parsed = try? FieldPath(path) else { return nil }
        return value(at: parsed)
    }

    /// The whole document as an owned value.
    public var document: JSONValue? {
        ParserPool.shared.withParser { parser in
            guard case .parsed(let root) = parser.parse(bytes) else { return nil }
            return JSONValue(root)
        }
    }
}

/// Parsers lent to ad-hoc raw-field lookups, one caller at a time.
final class ParserPool: Sendable {
    static let shared = ParserPool()

    private let idle = Mutex<[SimdJSONParser]>([])

    func withParser<T>(_ body: (SimdJSONParser) -> T?) -> T? {
        let borrowed = idle.withLock { $0.popLast() }
        guard let parser = borrowed ?? SimdJSONParser(maxCapacity: 0xFFFF_FFFF, maxDepth: 1024) else {
            return nil
        }
        let result = body(parser)
        idle.withLock { pool in
            if pool.count < 8 { pool.append(parser) }
        }
        return result
    }
}
