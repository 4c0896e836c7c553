/// A short text kept in the event's own storage: the audit ID. A 36-byte
/// UUID is too long for Swift's inline small strings, so as a `String` it
/// cost a heap allocation (and its reference counting) for every event; here
/// texts of up to ``capacity`` UTF-8 bytes are copied into five words, and
/// a `String` is made only when the value is read as one. Longer texts are
/// kept as a `String`.
///
/// Equality and hashing are by text: a text is stored inline exactly when it
/// fits, so equal texts have equal representations.
@usableFromInline
struct InlineText: Sendable, Hashable {
    static let capacity = 40

    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    /// The UTF-8 length of an inline text; 0 with `long` set for a longer one.
    @usableFromInline var count: UInt8 = 0
    @usableFromInline var long: String?

    /// Valid UTF-8 bytes (simdjson's strings, checked bytes of a record).
    init(validUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count <= Self.capacity else {
            long = String(decoding: bytes, as: UTF8.self)
            return
        }
        count = UInt8(truncatingIfNeeded: bytes.count)
        if let source = bytes.baseAddress, !bytes.isEmpty {
            withUnsafeMutableBytes(of: &words) { target in
                target.baseAddress?.copyMemory(from: source, byteCount: bytes.count)
            }
        }
    }

    init(_ text: String) {
        guard text.utf8.count <= Self.capacity else {
            long = text
            return
        }
        var text = text
        self = text.withUTF8 { InlineText(validUTF8: $0) }
    }

    /// The text's UTF-8 bytes, in place.
    func withUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if var long {
            return long.withUTF8(body)
        }
        return withUnsafeBytes(of: words) { raw in
            body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: Int(count)))
        }
    }

    @usableFromInline var string: String {
        if let long { return long }
        return withUTF8 { String(decoding: $0, as: UTF8.self) }
    }

    @usableFromInline static func == (a: InlineText, b: InlineText) -> Bool {
        a.count == b.count && a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2
            && a.words.3 == b.words.3 && a.words.4 == b.words.4 && a.long == b.long
    }

    @usableFromInline func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
        hasher.combine(words.4)
        hasher.combine(long)
    }
}
