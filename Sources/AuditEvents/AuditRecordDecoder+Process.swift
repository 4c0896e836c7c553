/// Process events in the Elastic Common Schema (the Defend for Containers
/// shape). ECS documents may nest (`"process": {"name": ...}`) or dot
/// (`"process.name": ...`, `"container": {"image.name": ...}`) their keys;
/// both are read.
extension AuditRecordDecoder {
    /// ECS key paths the process decoder reads (positions in ``ecsVariants``).
    enum ECSPath: Int {
        case processName, processExecutable, processArgs, processInteractive, processPID, processParentName, containerID
        case containerImage, hostOSType, eventType, eventCategory, eventAction, eventKind, podNamespace
        case podName, cluster, userName, processUserName, timestamp
    }
    /// Every spelling of every ``ECSPath``, nested and dotted (`process` → `parent` → `name`,
    /// `process` → `parent.name`, `process.parent` → `name`, `process.parent.name`), as one tree
    /// picked in one walk (generated; parents before children).
    static let ecsTreeKeys: [(name: StaticString, parent: Int?)] = [
        ("process", nil), ("name", 0), ("process.name", nil), ("executable", 0), ("process.executable", nil),
        ("args", 0), ("process.args", nil), ("interactive", 0), ("process.interactive", nil), ("pid", 0),
        ("process.pid", nil), ("parent", 0), ("name", 11), ("parent.name", 0), ("process.parent", nil), ("name", 14),
        ("process.parent.name", nil), ("container", nil), ("id", 17), ("container.id", nil), ("image", 17),
        ("name", 20), ("image.name", 17), ("container.image", nil), ("name", 23), ("container.image.name", nil),
        ("host", nil), ("os", 26), ("type", 27), ("os.type", 26), ("host.os", nil), ("type", 30),
        ("host.os.type", nil), ("event", nil), ("type", 33), ("event.type", nil), ("category", 33),
        ("event.category", nil), ("action", 33), ("event.action", nil), ("kind", 33), ("event.kind", nil),
        ("orchestrator", nil), ("namespace", 42), ("orchestrator.namespace", nil), ("resource", 42), ("name", 45),
        ("resource.name", 42), ("orchestrator.resource", nil), ("name", 48), ("orchestrator.resource.name", nil),
        ("cluster", 42), ("name", 51), ("cluster.name", 42), ("orchestrator.cluster", nil), ("name", 54),
        ("orchestrator.cluster.name", nil), ("user", nil), ("name", 57), ("user.name", nil), ("user", 0),
        ("name", 60), ("user.name", 0), ("process.user", nil), ("name", 63), ("process.user.name", nil),
        ("@timestamp", nil),
    ]
    static let ecsTree = PickTree(ecsTreeKeys)
    /// Each ``ECSPath`` written dotted, in case order.
    static let ecsDottedPaths = [
        "process.name", "process.executable", "process.args", "process.interactive", "process.pid",
        "process.parent.name", "container.id", "container.image.name", "host.os.type", "event.type",
        "event.category", "event.action", "event.kind", "orchestrator.namespace", "orchestrator.resource.name",
        "orchestrator.cluster.name", "user.name", "process.user.name", "@timestamp",
    ]
    /// For each ``ECSPath``, the positions in ``ecsTreeKeys`` whose full dotted path is that
    /// path, in the order they are tried (the tree's: nested keys first at each level, then the
    /// dotted ones); -1 pads. Derived from the tree, so the two cannot disagree.
    static let ecsVariants: [(Int, Int, Int, Int)] = {
        var full: [String] = []
        for key in ecsTreeKeys {
            let name = key.name.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
            full.append(key.parent.map { full[$0] + "." + name } ?? name)
        }
        precondition(ecsDottedPaths.count == ECSPath.timestamp.rawValue + 1, "one dotted path per ECSPath")
        return ecsDottedPaths.map { path in
            let at = full.indices.filter { full[$0] == path } + [-1, -1, -1]
            precondition((4...7).contains(at.count), "ECS path \(path) has no spelling, or more than four, in the tree")
            return (at[0], at[1], at[2], at[3])
        }
    }()

    func decodeProcessEvent(_ doc: JSONNode, raw: [UInt8]) -> DecodeOutcome {
        let picked = pickScratch.begin(doc, statics.ecsTree)
        defer { pickScratch.end(picked) }
        return decodeProcessEvent(doc, picked.fields, raw: raw)
    }

    /// The value of `path`: its first spelling present (`variants`: ``ecsVariants``).
    private static func ecsValue(_ f: PickedFields, _ path: ECSPath, _ variants: [(Int, Int, Int, Int)]) -> JSONNode? {
        let v = variants[path.rawValue]
        func probe(_ i: Int) -> JSONNode? {
            i >= 0 && i < f.found.count && f.found[i] != 0 ? JSONNode(value: f.values[i]) : nil
        }
        return probe(v.0) ?? probe(v.1) ?? probe(v.2) ?? probe(v.3)
    }

    private func decodeProcessEvent(_ doc: JSONNode, _ f: PickedFields, raw: [UInt8]) -> DecodeOutcome {
        // Its parts come from a cache lookup below; the decoder's empty parts until then (held
        // by the decoder, which spares the global's lazy-initialization check per event).
        var event = AuditEvent(AuditEvent.Fields(
            logType: .ecsProcess, isKubernetes: false, parts: statics.noParts, raw: rawJSON(raw)))
        var w = DecodeWarnings()
        let strings = self.strings
        let variants = statics.ecsVariants
        func at(_ path: ECSPath) -> JSONNode? { Self.ecsValue(f, path, variants) }

        // Filled in place, in the event's own storage: a ProcessDetails made
        // by a function (or in a local) and then assigned was copied, a
        // retain of each of its ~15 strings and lists, and the local released.
        // The warnings go by argument: a local function that captured them
        // had every access checked at run time (~4 % of a process event).
        event.withFields { fields in
            fields.process = ProcessDetails()
            Self.fill(&fields.process!, f, variants, strings, &w)
        }
        let namespace = event.box.fields.process?.podNamespace
        // The user and the pod namespace repeat: one part-cache lookup for both.
        let user = at(.userName), processUser = at(.processUserName)
        var key = parts.key()
        key.string(user)
        key.string(processUser)
        key.string(at(.podNamespace))
        let shared = parts.processParts.part(key, &w) { w in
            var made = statics.noParts.value
            made.user = Shared(UserInfo(
                name: FieldReader.string(user, &w, strings) ?? FieldReader.string(processUser, &w, strings)))
            var object = ObjectReference()
            object.namespace = namespace
            made.object = Shared(object)
            return made
        }
        event.cluster = FieldReader.string(at(.cluster), &w, strings) ?? options.clusterLabel
        event.withFields { $0.parts = shared }
        event.time = FieldReader.time(at(.timestamp), &w)
        event.warnings = w
        finish(&event, document: doc, envelope: nil)
        return .decoded(event)
    }

    /// A process event's details from the ECS fields picked (`variants`: ``ecsVariants``);
    /// names, images, container and pod ids through the string cache (they repeat).
    private static func fill(_ p: inout ProcessDetails, _ f: PickedFields, _ variants: [(Int, Int, Int, Int)],
                             _ strings: StringTables, _ w: inout DecodeWarnings) {
        func at(_ path: ECSPath) -> JSONNode? { ecsValue(f, path, variants) }
        p.name = FieldReader.string(at(.processName), &w, strings)
        p.executable = FieldReader.string(at(.processExecutable), &w, strings)
        p.args = FieldReader.strings(at(.processArgs), &w, strings)
        p.interactive = FieldReader.bool(at(.processInteractive), &w)
        p.pid = FieldReader.int(at(.processPID), &w).map(Int64.init)
        p.parentName = FieldReader.string(at(.processParentName), &w, strings)
        p.containerID = FieldReader.string(at(.containerID), &w, strings)
        p.containerImage = FieldReader.string(at(.containerImage), &w, strings)
        p.hostOSType = FieldReader.string(at(.hostOSType), &w, strings)
        p.eventTypes = stringList(at(.eventType), &w, strings)
        p.eventCategories = stringList(at(.eventCategory), &w, strings)
        p.eventAction = FieldReader.string(at(.eventAction), &w, strings)
        p.eventKind = FieldReader.string(at(.eventKind), &w, strings)
        p.podNamespace = FieldReader.string(at(.podNamespace), &w, strings)
        p.podName = FieldReader.string(at(.podName), &w, strings)
        if p.name == nil { w.insert(.missingField) }
    }

    /// ECS `event.type` and `event.category` are lists, but a lone string is legal.
    static func stringList(_ node: JSONNode?, _ w: inout DecodeWarnings, _ cache: StringTables? = nil) -> [String] {
        guard let node else { return [] }
        if let bytes = node.stringBytes {
            return [cache?.string(bytes) ?? String(decoding: bytes, as: UTF8.self)]
        }
        return FieldReader.strings(node, &w, cache)
    }
}
