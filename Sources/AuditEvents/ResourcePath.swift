#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A GKE `resourceName` read as a Kubernetes resource path
/// (`core/v1/namespaces/default/pods/web/exec`, `rbac.authorization.k8s.io/v1/clusterroles/admin`):
/// where its segments are, found once per entry and used for the object
/// reference (shared across entries), the request URI and the object's name
/// (the entry's own), and the part-cache key (``nameRange``).
///
/// A resource path has 3 to 8 non-empty segments, `/`-separated, the second a
/// version (`v` and more); anything else is not one (``isMapped`` false: no
/// object, the URI is the name itself under `/`).
struct ResourcePath {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Segment k is `bounds[2k]..<bounds[2k + 1]` (valid when mapped). Not a
    /// SIMD vector: storing one lane at a variable index wrote the lane and
    /// read the whole vector back through memory, a stalled store-to-load
    /// forward per bound (~6 % of a GKE entry's decode).
    private var bounds = InlineArray<16, Int32>(repeating: 0)
    private var count = 0
    private var isMapped = false
    private var isCore = false
    /// The segment of the resource (2, or 4 after `namespaces/<namespace>`).
    private var resourceIndex = 2

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        guard let base = bytes.baseAddress, bytes.count < Int(Int32.max) else { return }
        // Each `/` found by memchr (vectorized), a little faster than a loop
        // over every byte.
        let end = base + bytes.count
        var start = base
        while true {
            let found = memchr(start, Int32(UInt8(ascii: "/")), end - start)
            let slash = found.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) } ?? end
            guard count < 8, slash > start else { return }
            bounds[2 &* count] = Int32(truncatingIfNeeded: start - base)
            bounds[2 &* count &+ 1] = Int32(truncatingIfNeeded: slash - base)
            count += 1
            if slash == end { break }
            start = slash + 1
        }
        guard count >= 3 else { return }
        let version = segment(1)
        guard version.count > 1, version[0] == UInt8(ascii: "v") else { return }
        isMapped = true
        isCore = segment(0).equals("core")
        if count >= 5, segment(2).equals("namespaces") { resourceIndex = 4 }
    }

    private func segment(_ k: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(bounds[2 &* k])..<Int(bounds[2 &* k &+ 1])])
    }

    private func text(_ k: Int, _ cache: StringTables?) -> String? {
        guard k < count else { return nil }
        return cache?.string(segment(k)) ?? String(decoding: segment(k), as: UTF8.self)
    }

    /// The object's name is the resource's next segment, except that
    /// `namespaces/<name>` also names the object's namespace.
    private var namespaceIsName: Bool { resourceIndex == 2 && segment(2).equals("namespaces") }

    /// The bytes of the object's name when nothing else the path makes
    /// depends on them: a cache key may leave them out (entries that differ
    /// only there make the same object reference).
    var nameRange: Range<Int>? {
        guard isMapped, resourceIndex + 1 < count, !namespaceIsName else { return nil }
        return Int(bounds[2 &* resourceIndex &+ 2])..<Int(bounds[2 &* resourceIndex &+ 3])
    }

    /// The object reference, without its name (``name(_:)``); empty when not mapped.
    func object(_ cache: StringTables?) -> ObjectReference {
        var object = ObjectReference()
        guard isMapped else { return object }
        object.apiGroup = isCore ? "" : text(0, cache)
        object.apiVersion = text(1, cache)
        // Segment 3: the namespace before the resource, or the name of a namespace (which is its own).
        if resourceIndex == 4 || namespaceIsName { object.namespace = text(3, cache) }
        object.resource = text(resourceIndex, cache)
        object.subresource = text(resourceIndex + 2, cache)
        return object
    }

    /// The object's name (nil when not mapped or absent).
    func name(_ cache: StringTables?) -> String? {
        isMapped ? text(resourceIndex + 1, cache) : nil
    }

    /// The request URI: `/api/v1/...` for the core group, `/apis/<group>/...`
    /// otherwise, the name under `/` when it is not a resource path.
    func uri(_ cache: StringTables?) -> String {
        if isMapped {
            let prefix: StaticString = isCore ? "/api/" : "/apis/"
            return prefix.withUTF8Buffer { Self.joined($0, isCore ? UnsafeBufferPointer(rebasing: bytes[5...]) : bytes, cache) }
        }
        if bytes.first == UInt8(ascii: "/") { return cache?.string(bytes) ?? String(decoding: bytes, as: UTF8.self) }
        let slash: StaticString = "/"
        return slash.withUTF8Buffer { Self.joined($0, bytes, cache) }
    }

    /// `a` followed by `b` as one string, through `cache` when given.
    private static func joined(
        _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, _ cache: StringTables?
    ) -> String {
        let n = a.count + b.count
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(n, 1)) { buffer in
            guard let base = buffer.baseAddress else {
                return String(decoding: a, as: UTF8.self) + String(decoding: b, as: UTF8.self)
            }
            if let pa = a.baseAddress { base.update(from: pa, count: a.count) }
            if let pb = b.baseAddress { (base + a.count).update(from: pb, count: b.count) }
            let text = UnsafeBufferPointer(start: base, count: n)
            return cache?.string(text) ?? String(decoding: text, as: UTF8.self)
        }
    }
}
