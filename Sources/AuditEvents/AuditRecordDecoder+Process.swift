/// Process events in the Elastic Common Schema (the Defend for Containers
/// shape). ECS documents may nest (`"process": {"name": ...}`) or dot
/// (`"process.name": ...`, `"container": {"image.name": ...}`) their keys;
/// both are read.
extension AuditRecordDecoder {
    func decodeProcessEvent(_ doc: JSONNode, raw: [UInt8]) -> DecodeOutcome {
        var event = makeEvent(.ecsProcess, raw: raw)
        var w = event.warnings
        var p = ProcessDetails()
        let strings = self.strings
        func at(_ a: StaticString, _ b: StaticString? = nil, _ c: StaticString? = nil) -> JSONNode? {
            Self.ecsLookup(doc, a, b, c)
        }
        // Through the string cache: names, images, container and pod ids repeat across events.
        func string(_ node: JSONNode?) -> String? { FieldReader.string(node, &w, strings) }

        p.name = string(at("process", "name"))
        p.executable = string(at("process", "executable"))
        p.args = FieldReader.strings(at("process", "args"), &w, strings)
        p.interactive = FieldReader.bool(at("process", "interactive"), &w)
        p.pid = FieldReader.int(at("process", "pid"), &w).map(Int64.init)
        p.parentName = string(at("process", "parent", "name"))
        p.containerID = string(at("container", "id"))
        p.containerImage = string(at("container", "image", "name"))
        p.hostOSType = string(at("host", "os", "type"))
        p.eventTypes = Self.stringList(at("event", "type"), &w, strings)
        p.eventCategories = Self.stringList(at("event", "category"), &w, strings)
        p.eventAction = string(at("event", "action"))
        p.eventKind = string(at("event", "kind"))
        p.podNamespace = string(at("orchestrator", "namespace"))
        p.podName = string(at("orchestrator", "resource", "name"))
        if p.name == nil { w.insert(.missingField) }

        event.isKubernetes = false
        var parts = noParts.value
        parts.user = Shared(UserInfo(
            name: string(at("user", "name")) ?? string(at("process", "user", "name"))))
        event.cluster = string(at("orchestrator", "cluster", "name")) ?? options.clusterLabel
        var object = ObjectReference()
        object.namespace = p.podNamespace
        parts.object = Shared(object)
        event.withFields { $0.parts = Shared(parts) }
        event.time = FieldReader.time(at("@timestamp"), &w)
        event.process = p
        event.warnings = w
        finish(&event, document: doc, envelope: nil)
        return .decoded(event)
    }

    /// ECS `event.type` and `event.category` are lists, but a lone string is legal.
    static func stringList(_ node: JSONNode?, _ w: inout DecodeWarnings, _ cache: StringCache? = nil) -> [String] {
        guard let node else { return [] }
        if let bytes = node.stringBytes {
            return [cache?.string(bytes) ?? String(decoding: bytes, as: UTF8.self)]
        }
        return FieldReader.strings(node, &w, cache)
    }

    /// The value at the key path `a(.b(.c))`: nested keys first, falling
    /// back at each level to dotted keys (`a.b` inside `a`'s parent), without
    /// building strings (the dotted keys are joined in a stack buffer).
    static func ecsLookup(_ node: JSONNode, _ a: StaticString, _ b: StaticString?, _ c: StaticString?) -> JSONNode? {
        withUnsafeTemporaryAllocation(of: UnsafeBufferPointer<UInt8>.self, capacity: 3) { keys in
            var n = 0
            for key in [a, b, c] {
                guard let key else { break }
                keys[n] = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
                n += 1
            }
            return ecsLookup(node, UnsafeBufferPointer(rebasing: keys[0..<n])[...])
        }
    }

    /// Nested keys, falling back to dotted keys (`a.b` inside `a`'s parent).
    static func ecsLookup(_ node: JSONNode, _ keys: Slice<UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>>) -> JSONNode? {
        guard let first = keys.first else { return node }
        guard node.kind == .object else { return nil }
        if let child = node.field(bytes: first), let found = ecsLookup(child, keys.dropFirst()) {
            return found
        }
        let total = keys.reduce(0) { $0 + $1.count + 1 }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { buffer -> JSONNode? in
            guard let base = buffer.baseAddress, let start = first.baseAddress else { return nil }
            base.update(from: start, count: first.count)
            var joined = first.count
            var rest = keys.dropFirst()
            while let next = rest.first {
                base[joined] = UInt8(ascii: ".")
                if let from = next.baseAddress { (base + joined + 1).update(from: from, count: next.count) }
                joined += 1 + next.count
                rest = rest.dropFirst()
                if let child = node.field(bytes: UnsafeBufferPointer(start: base, count: joined)),
                   let found = ecsLookup(child, rest) {
                    return found
                }
            }
            return nil
        }
    }
}
