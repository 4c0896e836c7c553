#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSimdJSON

/// A value inside a document parsed by ``SimdJSONParser``.
///
/// - Important: valid only until its parser parses again or is released; it
///   never leaves the decode call that produced it.
struct JSONNode {
    let value: vj_value

    enum Kind: Int32 {
        case array = 1, object, int64, uint64, double, string, bool, null
    }

    var kind: Kind { Kind(rawValue: vj_type_fast(value)) ?? .null }
    var isNull: Bool { kind == .null }

    /// The member `key` of an object, or nil (also when this is not an object).
    @inline(__always)
    func field(_ key: StaticString) -> JSONNode? {
        var out = vj_value()
        let found = key.withUTF8Buffer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                vj_object_find(value, $0, buffer.count, &out)
            }
        }
        return found ? JSONNode(value: out) : nil
    }

    /// The member named by a runtime key.
    func field(named key: String) -> JSONNode? {
        var out = vj_value()
        var key = key
        let found = key.withUTF8 { buffer -> Bool in
            guard let base = buffer.baseAddress else {
                return vj_object_find(value, "", 0, &out)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                vj_object_find(value, $0, buffer.count, &out)
            }
        }
        return found ? JSONNode(value: out) : nil
    }

    /// The member whose key is these bytes.
    func field(bytes key: UnsafeBufferPointer<UInt8>) -> JSONNode? {
        var out = vj_value()
        let found = key.withMemoryRebound(to: CChar.self) { name -> Bool in
            guard let base = name.baseAddress else { return vj_object_find(value, "", 0, &out) }
            return vj_object_find(value, base, name.count, &out)
        }
        return found ? JSONNode(value: out) : nil
    }

    /// Follows nested object keys; nil as soon as one is missing.
    func field(_ first: StaticString, _ second: StaticString) -> JSONNode? {
        field(first)?.field(second)
    }

    /// The string's UTF-8 bytes (validated by simdjson), without copying.
    var stringBytes: UnsafeBufferPointer<UInt8>? {
        var pointer: UnsafePointer<CChar>?
        var length = 0
        guard vj_get_string_fast(value, &pointer, &length), let pointer else { return nil }
        return UnsafeBufferPointer(
            start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
    }

    var string: String? {
        guard let bytes = stringBytes else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True when this is a string equal to `literal`.
    func stringEquals(_ literal: StaticString) -> Bool {
        guard let bytes = stringBytes else { return false }
        return bytes.equals(literal)
    }

    var int64: Int64? {
        var out: Int64 = 0
        return vj_get_int64(value, &out) ? out : nil
    }

    var double: Double? {
        var out: Double = 0
        return vj_get_double(value, &out) ? out : nil
    }

    var bool: Bool? {
        var out = false
        return vj_get_bool(value, &out) ? out : nil
    }

    /// Calls `body` with each element of an array (nothing when not an array).
    func forEachElement(_ body: (JSONNode) -> Void) {
        withElements { elements in
            for element in elements { body(JSONNode(value: element)) }
        }
    }

    /// Calls `body` with the elements of an array (none when not an array).
    func withElements<R>(_ body: (UnsafeBufferPointer<vj_value>) -> R) -> R {
        guard kind == .array else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return withUnsafeTemporaryAllocation(of: vj_value.self, capacity: 32) { buffer in
            guard let base = buffer.baseAddress else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            let count = vj_array_elements(value, base, 32)
            if count <= 32 { return body(UnsafeBufferPointer(start: base, count: count)) }
            return withUnsafeTemporaryAllocation(of: vj_value.self, capacity: count) { large in
                guard let largeBase = large.baseAddress else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
                let n = min(vj_array_elements(value, largeBase, count), count)
                return body(UnsafeBufferPointer(start: largeBase, count: n))
            }
        }
    }

    /// Calls `body` with each member of an object, in document order.
    func forEachField(_ body: (UnsafeBufferPointer<UInt8>, JSONNode) -> Void) {
        guard kind == .object else { return }
        func visit(_ fields: UnsafeMutableBufferPointer<vj_field>, _ n: Int) {
            for i in 0..<n {
                let f = fields[i]
                let key = f.key.map {
                    UnsafeBufferPointer(
                        start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self),
                        count: f.key_length)
                } ?? UnsafeBufferPointer(start: nil, count: 0)
                body(key, JSONNode(value: f.value))
            }
        }
        withUnsafeTemporaryAllocation(of: vj_field.self, capacity: 32) { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = vj_object_fields(value, base, 32)
            if count <= 32 { visit(buffer, count); return }
            withUnsafeTemporaryAllocation(of: vj_field.self, capacity: count) { large in
                guard let largeBase = large.baseAddress else { return }
                visit(large, min(vj_object_fields(value, largeBase, count), count))
            }
        }
    }

    /// This value as minified JSON bytes.
    func serialized() -> [UInt8] {
        var pointer: UnsafePointer<CChar>?
        var length = 0
        guard vj_serialize_view(value, &pointer, &length), let pointer else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Byte equality with a literal (memcmp, not a generic element walk).
    @inline(__always)
    func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        guard count > 0, let base = baseAddress else { return true }
        return literal.withUTF8Buffer { other in
            guard let otherBase = other.baseAddress else { return false }
            return memcmp(base, otherBase, count) == 0
        }
    }
}
