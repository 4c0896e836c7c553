import AuditEvents
import Enrichment
import Yams

extension RuleFileReader {
    /// The keys a rule may have, sorted (as unknown-key problems list them).
    static let ruleKeys: [String] = [
        "id", "title", "description", "severity", "log_types", "mitre", "runbook", "references",
        "notes", "enabled", "where", "threshold", "dedup", "aggregate", "output", "tests",
    ].sorted()

    /// The rule in `root`, or nil when any part of it is wrong (problems recorded).
    mutating func rule(_ root: Node) -> Rule? {
        let before = problems.count
        guard let keys = mapping(root, "a rule", allowed: Self.ruleKeys,
                                 required: ["id", "title", "severity", "log_types", "where"]) else { return nil }
        let id = keys["id"].flatMap { string($0.value, "id") }
        if let node = keys["id"]?.value, let id, id.isEmpty || id.contains(where: { $0 == " " || $0 == "/" }) {
            problem(at: node, "id must be non-empty, without spaces or slashes")
        }
        let title = keys["title"].flatMap { template($0.value, "title") }
        var severity: Severity?
        if let node = keys["severity"]?.value, let text = string(node, "severity") {
            severity = Severity(rawValue: text)
            if severity == nil {
                let known = Severity.allCases.map(\.rawValue).joined(separator: ", ")
                problem(at: node, "unknown severity '\(text)' (one of \(known))")
            }
        }
        var logTypes: [LogType] = []
        if let node = keys["log_types"]?.value {
            let items: [Node] = if case .sequence(let seq) = node { Array(seq) } else { [node] }
            for item in items {
                guard let text = string(item, "a log type") else { continue }
                if let type = LogType(rawValue: text) {
                    logTypes.append(type)
                } else {
                    let known = LogType.allCases.map(\.rawValue).joined(separator: ", ")
                    problem(at: item, "unknown log type '\(text)' (one of \(known))")
                }
            }
        }
        let whereCondition = keys["where"].flatMap { self.condition($0.value, "where") }
        let thresholdSpec = keys["threshold"].flatMap { self.threshold($0.value) }
        let dedupSpec = keys["dedup"].flatMap { self.dedup($0.value) }
        let aggregateSpec = keys["aggregate"].flatMap { self.aggregate($0.value) }
        if thresholdSpec != nil, dedupSpec == nil, let node = keys["threshold"]?.key {
            problem(at: node, "threshold needs a dedup period (its window)")
        }
        let output = keys["output"].map { self.fields($0.value, "output") } ?? []
        let ruleTests = keys["tests"].map { self.tests($0.value) } ?? []
        let description = keys["description"].flatMap { string($0.value, "description") } ?? ""
        let runbook = keys["runbook"].flatMap { string($0.value, "runbook") } ?? ""
        let notes = keys["notes"].flatMap { string($0.value, "notes") } ?? ""
        let mitre = keys["mitre"].map { strings($0.value, "mitre") } ?? []
        let references = keys["references"].map { strings($0.value, "references") } ?? []
        let enabled = keys["enabled"].map { bool($0.value, "enabled") ?? true } ?? true

        guard problems.count == before, let id, let title, let severity, let whereCondition else { return nil }
        return Rule(id: id, title: title, description: description, severity: severity, logTypes: logTypes,
                    mitre: mitre, runbook: runbook, references: references, notes: notes, enabled: enabled,
                    condition: whereCondition, threshold: thresholdSpec, dedup: dedupSpec, aggregate: aggregateSpec,
                    output: output, tests: ruleTests, file: file)
    }

    mutating func threshold(_ node: Node) -> Rule.Threshold? {
        guard let keys = mapping(node, "threshold", allowed: ["count", "group_by"], required: ["count"]),
              let count = keys["count"].flatMap({ positiveInt($0.value, "threshold count") }) else { return nil }
        return Rule.Threshold(count: count, groupBy: keys["group_by"].map { fields($0.value, "group_by") } ?? [])
    }

    mutating func dedup(_ node: Node) -> Rule.Dedup? {
        guard let keys = mapping(node, "dedup", allowed: ["group_by", "key", "period"], required: ["period"]),
              let period = keys["period"].flatMap({ duration($0.value, "dedup period") }) else { return nil }
        return Rule.Dedup(period: period, groupBy: keys["group_by"].map { fields($0.value, "group_by") } ?? [],
                          key: keys["key"].flatMap { template($0.value, "dedup key") })
    }

    mutating func aggregate(_ node: Node) -> Rule.Aggregate? {
        guard let keys = mapping(node, "aggregate", allowed: ["group_by", "having", "stats", "window"],
                                 required: ["window", "group_by", "stats"]) else { return nil }
        let window = keys["window"].flatMap { duration($0.value, "aggregate window") }
        let groupBy = keys["group_by"].map { fields($0.value, "group_by") } ?? []
        var stats: [Rule.Statistic] = []
        if let statsNode = keys["stats"]?.value {
            if case .mapping(let m) = statsNode {
                for (key, value) in m {
                    guard let name = string(key, "a statistic name"),
                          let text = string(value, "a statistic") else { continue }
                    switch StatisticFunction.parse(text) {
                    case .success(let function): stats.append(Rule.Statistic(name: name, function: function))
                    case .failure(let error): problem(at: value, error.detail)
                    }
                }
            } else {
                problem(at: statsNode, "stats must be a mapping of name: statistic")
            }
        }
        let having = keys["having"].flatMap { self.condition($0.value, "having") }
        if let having, let node = keys["having"]?.value {
            let names = Set(stats.map(\.name) + groupBy.map(\.dottedName))
            for field in having.fields where !names.contains(field.dottedName) {
                problem(at: node, "having reads '\(field.name)', which is neither a statistic nor a group-by field")
            }
        }
        guard let window else { return nil }
        return Rule.Aggregate(window: window, groupBy: groupBy, stats: stats, having: having)
    }

    mutating func tests(_ node: Node) -> [RuleTest] {
        guard case .sequence(let seq) = node else {
            problem(at: node, "tests must be a list")
            return []
        }
        return seq.compactMap { test($0) }
    }

    mutating func test(_ node: Node) -> RuleTest? {
        guard let keys = mapping(node, "a test",
                                 allowed: ["events", "expected", "expected_alerts", "geo", "log", "log_type", "name",
                                           "tor_exit_nodes"],
                                 required: ["name"]) else { return nil }
        let name = keys["name"].flatMap { string($0.value, "name") } ?? ""
        let expected = keys["expected"].flatMap { bool($0.value, "expected") }
        var alerts: Int?
        if let n = keys["expected_alerts"]?.value {
            if case .scalar(let s) = n, let count = Int(s.string), count >= 0 { alerts = count } else {
                problem(at: n, "expected_alerts must be a whole number")
            }
        }
        if expected == nil, alerts == nil {
            problem(at: node, "a test needs 'expected' or 'expected_alerts'")
        }
        var logType: LogType?
        if let n = keys["log_type"]?.value, let text = string(n, "log_type") {
            logType = LogType(rawValue: text)
            if logType == nil { problem(at: n, "unknown log type '\(text)'") }
        }
        var events: [RuleValue] = []
        if let log = keys["log"]?.value { events.append(value(log)) }
        if let list = keys["events"]?.value {
            if case .sequence(let seq) = list { events += seq.map(value) } else {
                problem(at: list, "events must be a list")
            }
        }
        if keys["log"] != nil, keys["events"] != nil, let k = keys["events"]?.key {
            problem(at: k, "a test has either 'log' or 'events', not both")
        } else if events.isEmpty {
            problem(at: node, "a test needs 'log' or 'events'")
        }
        let tor = keys["tor_exit_nodes"].map { strings($0.value, "tor_exit_nodes") } ?? []
        let geo = keys["geo"].map { testLocations($0.value) } ?? [:]
        return RuleTest(name: name, expected: expected ?? ((alerts ?? 0) > 0), expectedAlerts: alerts,
                        logType: logType, torExitNodes: tor, geo: geo, events: events)
    }

    /// `geo: {IP: {city, country, country_code, region, lat, lon}}` of a test.
    mutating func testLocations(_ node: Node) -> [String: RuleTestLocation] {
        guard case .mapping(let byIP) = node else {
            problem(at: node, "geo must map source IPs to locations, e.g. {\"5.5.5.5\": {city: London, country: United Kingdom}}")
            return [:]
        }
        var out: [String: RuleTestLocation] = [:]
        for (key, value) in byIP {
            guard let ip = string(key, "a geo key") else { continue }
            if IPAddress(ip) == nil { problem(at: key, "'\(ip)' is not an IP address") }
            guard let fields = mapping(value, "the location of \(ip)",
                                       allowed: ["city", "country", "country_code", "lat", "lon", "region"])
            else { continue }
            func text(_ name: String) -> String? { fields[name].flatMap { string($0.value, name) } }
            func number(_ name: String) -> Double? {
                guard let n = fields[name]?.value else { return nil }
                if case .scalar(let s) = n, let d = Double(s.string) { return d }
                problem(at: n, "\(name) must be a number")
                return nil
            }
            out[ip] = RuleTestLocation(city: text("city"), country: text("country"),
                                       countryCode: text("country_code"), region: text("region"),
                                       latitude: number("lat"), longitude: number("lon"))
        }
        return out
    }
}
