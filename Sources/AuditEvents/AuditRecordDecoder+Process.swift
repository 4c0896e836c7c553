/// Process events in the Elastic Common Schema (the Defend for Containers
/// shape). ECS documents may nest (`"process": {"name": ...}`) or dot
/// (`"process.name": ...`, `"container": {"image.name": ...}`) their keys;
/// both are read.
extension AuditRecordDecoder {
    func decodeProcessEvent(_ doc: JSONNode, raw: [UInt8]) -> DecodeOutcome {
        var event = makeEvent(.ecsProcess, raw: raw)
        var w = event.warnings
        var p = ProcessDetails()
        func at(_ path: String...) -> JSONNode? { Self.ecsLookup(doc, path[...]) }

        p.name = FieldReader.string(at("process", "name"), &w)
        p.executable = FieldReader.string(at("process", "executable"), &w)
        p.args = FieldReader.strings(at("process", "args"), &w)
        p.interactive = FieldReader.bool(at("process", "interactive"), &w)
        p.pid = FieldReader.int(at("process", "pid"), &w).map(Int64.init)
        p.parentName = FieldReader.string(at("process", "parent", "name"), &w)
        p.containerID = FieldReader.string(at("container", "id"), &w)
        p.containerImage = FieldReader.string(at("container", "image", "name"), &w)
        p.hostOSType = FieldReader.string(at("host", "os", "type"), &w)
        p.eventTypes = Self.stringList(at("event", "type"), &w)
        p.eventCategories = Self.stringList(at("event", "category"), &w)
        p.eventAction = FieldReader.string(at("event", "action"), &w)
        p.eventKind = FieldReader.string(at("event", "kind"), &w)
        p.podNamespace = FieldReader.string(at("orchestrator", "namespace"), &w)
        p.podName = FieldReader.string(at("orchestrator", "resource", "name"), &w)
        if p.name == nil { w.insert(.missingField) }

        event.isKubernetes = false
        var parts = noParts.value
        parts.user = Shared(UserInfo(
            name: FieldReader.string(at("user", "name"), &w) ?? FieldReader.string(at("process", "user", "name"), &w)))
        event.cluster = FieldReader.string(at("orchestrator", "cluster", "name"), &w) ?? options.clusterLabel
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
    static func stringList(_ node: JSONNode?, _ w: inout DecodeWarnings) -> [String] {
        guard let node else { return [] }
        if let s = node.string { return [s] }
        return FieldReader.strings(node, &w)
    }

    /// Nested keys, falling back to dotted keys (`a.b` inside `a`'s parent).
    static func ecsLookup(_ node: JSONNode, _ keys: ArraySlice<String>) -> JSONNode? {
        guard let first = keys.first else { return node }
        guard node.kind == .object else { return nil }
        if let child = node.field(named: first), let found = ecsLookup(child, keys.dropFirst()) {
            return found
        }
        var joined = first
        var rest = keys.dropFirst()
        while let next = rest.first {
            joined += "." + next
            rest = rest.dropFirst()
            if let child = node.field(named: joined), let found = ecsLookup(child, rest) {
                return found
            }
        }
        return nil
    }
}
