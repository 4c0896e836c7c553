/// Objects made from blocks of the compact encoding, cached by the block's bytes (direct-mapped
/// and bounded, like the decoders' part caches): a hit is a hash, a memcmp and a retain.
/// Bytes that made nothing (damaged) are never cached.
///
/// - Important: not thread-safe; one per decoder.
public final class CompactCache<Value: AnyObject & Sendable> {
    /// An object compared by identity: what the part cache stores.
    struct Handle: Hashable, Sendable {
        let object: Value
        static func == (a: Handle, b: Handle) -> Bool { a.object === b.object }
        func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(object)) }
    }

    private let cache: PartCache<Handle>

    /// `slots` is rounded up to a power of two; 0 disables the cache.
    public init(slots: Int) {
        cache = PartCache(slots: slots)
    }

    /// The object these bytes made, or `make()`'s (remembered unless nil).
    public func value(_ bytes: UnsafeBufferPointer<UInt8>, make: () -> Value?) -> Value? {
        cache.part(bytes, make: { make().map(Handle.init) })?.value.object
    }
}
