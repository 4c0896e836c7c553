import CSimdJSON

/// Keys read from one object in a single pass (`vj_object_pick`, one hash
/// probe per member), instead of one linear lookup per key.
///
/// The C key set is built once, never mutated and never freed (key sets are
/// static), and its names point at static string literals; that is why the
/// `@unchecked Sendable` is safe.
struct KeySet: @unchecked Sendable {
    let set: OpaquePointer?
    let count: Int

    init(_ names: [StaticString]) {
        let keys = names.map { name in
            guard name.hasPointerRepresentation else { return vj_key(name: nil, length: 0) }
            return vj_key(
                name: UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self),
                length: name.utf8CodeUnitCount)
        }
        set = keys.withUnsafeBufferPointer { vj_keyset_create($0.baseAddress, $0.count) }
        count = set == nil ? 0 : keys.count
    }
}

/// The members picked by ``JSONNode/pick(_:_:)``, by key position.
struct PickedFields {
    let values: UnsafeMutableBufferPointer<vj_value>
    let found: UnsafeMutableBufferPointer<UInt8>

    subscript<K: RawRepresentable>(key: K) -> JSONNode? where K.RawValue == Int {
        let i = key.rawValue
        guard i >= 0, i < found.count, found[i] != 0 else { return nil }
        return JSONNode(value: values[i])
    }
}

extension JSONNode {
    /// Picks `set`'s keys from this object in one pass (none when not an object).
    func pick<R>(_ set: KeySet, _ body: (PickedFields) -> R) -> R {
        let n = set.count
        return withUnsafeTemporaryAllocation(of: vj_value.self, capacity: n) { values in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { found in
                if let valueBase = values.baseAddress, let foundBase = found.baseAddress {
                    _ = vj_object_pick(value, set.set, valueBase, foundBase)
                    return body(PickedFields(values: values, found: found))
                }
                return body(PickedFields(values: values, found: UnsafeMutableBufferPointer(start: nil, count: 0)))
            }
        }
    }
}
