import AuditEvents

// Codable for rule state (the runtime's changelog): the alert a fired window
// keeps, and the field values of groups and statistics. Alert times are
// encoded as nanoseconds since the epoch; `json` stays the alert's wire form.

extension Alert: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, kind, ruleID, title, severity, mitre, runbook, dedupKey, windowStart, firstSeen, lastSeen
        case count, groupKey, source, output, statistics, events, eventsOmitted, dataVersions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func time(_ key: CodingKeys) throws -> EventTime { EventTime(nanos: try c.decode(Int64.self, forKey: key)) }
        self.init(
            id: try c.decode(String.self, forKey: .id), kind: try c.decode(Kind.self, forKey: .kind),
            ruleID: try c.decode(String.self, forKey: .ruleID), title: try c.decode(String.self, forKey: .title),
            severity: try c.decode(Severity.self, forKey: .severity), mitre: try c.decode([String].self, forKey: .mitre),
            runbook: try c.decode(String.self, forKey: .runbook),
            dedupKey: try c.decodeIfPresent(String.self, forKey: .dedupKey),
            windowStart: try time(.windowStart), firstSeen: try time(.firstSeen), lastSeen: try time(.lastSeen),
            count: try c.decode(Int.self, forKey: .count), groupKey: try c.decode([Field].self, forKey: .groupKey),
            source: try c.decodeIfPresent(Source.self, forKey: .source),
            output: try c.decode([Field].self, forKey: .output),
            statistics: try c.decode([Field].self, forKey: .statistics),
            events: try c.decode([EventOrigin].self, forKey: .events),
            eventsOmitted: try c.decode(Int.self, forKey: .eventsOmitted),
            dataVersions: try c.decode(DataVersions.self, forKey: .dataVersions))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(ruleID, forKey: .ruleID)
        try c.encode(title, forKey: .title)
        try c.encode(severity, forKey: .severity)
        try c.encode(mitre, forKey: .mitre)
        try c.encode(runbook, forKey: .runbook)
        try c.encodeIfPresent(dedupKey, forKey: .dedupKey)
        try c.encode(windowStart.nanos, forKey: .windowStart)
        try c.encode(firstSeen.nanos, forKey: .firstSeen)
        try c.encode(lastSeen.nanos, forKey: .lastSeen)
        try c.encode(count, forKey: .count)
        try c.encode(groupKey, forKey: .groupKey)
        try c.encodeIfPresent(source, forKey: .source)
        try c.encode(output, forKey: .output)
        try c.encode(statistics, forKey: .statistics)
        try c.encode(events, forKey: .events)
        try c.encode(eventsOmitted, forKey: .eventsOmitted)
        try c.encode(dataVersions, forKey: .dataVersions)
    }
}

extension Severity: Codable {}

extension FieldValue: Codable {
    /// A string, number or bool, as itself.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .bool(let b): try c.encode(b)
        }
    }
}
