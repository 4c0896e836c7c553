import AuditEvents
import Enrichment

/// One detection, as written in a rule file under `topology/rules/` and
/// checked by ``RuleLoader``. Conditions and templates are compiled here, once.
public struct Rule: Sendable {
    public let id: String
    public let title: TitleTemplate
    public let description: String
    public let severity: Severity
    public let logTypes: [LogType]
    /// MITRE ATT&CK tags (`TA0007:T1613`, `T1046`).
    public let mitre: [String]
    public let runbook: String
    public let references: [String]
    /// How this rule departs from its source, and why.
    public let notes: String
    public let enabled: Bool
    /// The `where:` condition every event is tested against.
    public let condition: Condition
    public let threshold: Threshold?
    public let dedup: Dedup?
    public let aggregate: Aggregate?
    /// The fields an alert carries.
    public let output: [FieldReference]
    /// Inline test cases (run by `vigil rules test`).
    public let tests: [RuleTest]
    /// The file the rule came from.
    public let file: String

    /// Alert when matches for one group key reach `count` within the dedup period
    /// (Panther's model: the window opens at the first match and does not slide).
    public struct Threshold: Sendable, Hashable {
        public let count: Int
        public let groupBy: [FieldReference]
    }

    /// After an alert for a group key, later matches within `period` raise no new
    /// alert. `key`, when given, renders the dedup string (Panther's `dedup()`).
    public struct Dedup: Sendable, Hashable {
        public let period: RuleDuration
        public let groupBy: [FieldReference]
        public let key: TitleTemplate?
    }

    /// Splunk's `stats ... by` over tumbling, clock-aligned windows.
    public struct Aggregate: Sendable, Hashable {
        public let window: RuleDuration
        public let groupBy: [FieldReference]
        /// Output name → statistic, in file order.
        public let stats: [Statistic]
        /// Evaluated over the statistics (by name) when a window closes.
        public let having: Condition?
    }

    public struct Statistic: Sendable, Hashable {
        public let name: String
        public let function: StatisticFunction
    }
}

/// What an aggregate computes per group.
public enum StatisticFunction: Sendable, Hashable, CustomStringConvertible {
    case count
    case values(FieldReference)
    case distinctCount(FieldReference)
    case min(FieldReference)
    case max(FieldReference)

    /// Parses `count`, `values(f)`, `dc(f)`, `min(f)`, `max(f)`; the error is a detail.
    static func parse(_ text: String) -> Result<StatisticFunction, StatisticParseError> {
        let t = text.trimmingSpaces
        if t == "count" || t == "count()" { return .success(.count) }
        guard let open = t.firstIndex(of: "("), t.hasSuffix(")") else {
            return .failure(StatisticParseError(detail:
                "'\(t)' is not a statistic (count, values(field), dc(field), min(field), max(field))"))
        }
        let name = String(t[..<open]).lowercased()
        let argument = String(t[t.index(after: open)..<t.index(before: t.endIndex)]).trimmingSpaces
        guard let field = FieldReference(argument), !argument.isEmpty else {
            return .failure(StatisticParseError(detail: "'\(argument)' is not a field name"))
        }
        switch name {
        case "values": return .success(.values(field))
        case "dc": return .success(.distinctCount(field))
        case "min": return .success(.min(field))
        case "max": return .success(.max(field))
        default:
            return .failure(StatisticParseError(detail:
                "unknown statistic '\(name)' (count, values, dc, min, max)"))
        }
    }

    public var description: String {
        switch self {
        case .count: return "count"
        case .values(let f): return "values(\(f))"
        case .distinctCount(let f): return "dc(\(f))"
        case .min(let f): return "min(\(f))"
        case .max(let f): return "max(\(f))"
        }
    }
}

struct StatisticParseError: Error { let detail: String }

/// An inline test case of a rule: one event (`log:`) or a sequence (`events:`)
/// and what the rule should do with it.
public struct RuleTest: Sendable, Hashable {
    public let name: String
    /// Whether the rule's condition matches (single event) or how many alerts
    /// the sequence raises (`expected_alerts:`).
    public let expected: Bool
    public let expectedAlerts: Int?
    /// The log type to decode the events as (default: the rule's first).
    public let logType: LogType?
    /// The Tor exit set for this case.
    public let torExitNodes: [String]
    /// Locations the case gives source IPs (`geo:`), in place of a GeoIP database.
    public let geo: [String: RuleTestLocation]
    /// The raw events, as written.
    public let events: [RuleValue]
}

/// A location a rule test gives a source IP (`geo: {IP: {city, country, ...}}`), so
/// rules that read geo fields (Splunk's `iplocation` step) can be tested inline
/// without a GeoIP database. It takes the place of the database's answer for that IP.
public struct RuleTestLocation: Sendable, Hashable {
    public let city: String?
    public let country: String?
    public let countryCode: String?
    public let region: String?
    public let latitude: Double?
    public let longitude: Double?

    public init(city: String? = nil, country: String? = nil, countryCode: String? = nil, region: String? = nil,
                latitude: Double? = nil, longitude: Double? = nil) {
        self.city = city
        self.country = country
        self.countryCode = countryCode
        self.region = region
        self.latitude = latitude
        self.longitude = longitude
    }

    public var location: GeoLocation {
        GeoLocation(city: city, country: country, countryCode: countryCode, region: region,
                    latitude: latitude, longitude: longitude)
    }
}

/// A YAML value kept as data (a test's raw event), convertible to JSON.
public indirect enum RuleValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([RuleValue])
    case object([(String, RuleValue)])

    public static func == (a: RuleValue, b: RuleValue) -> Bool { a.json == b.json }
    public func hash(into hasher: inout Hasher) { hasher.combine(json) }

    /// Compact JSON text, keys in file order.
    public var json: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return FieldValue.number(n).text
        case .string(let s): return Self.quote(s)
        case .array(let a): return "[" + a.map(\.json).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { Self.quote($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        }
    }

    private static func quote(_ s: String) -> String { JSONWriter.quoted(s) }
}
