import AuditEvents

/// One test of one rule, from a rule file's inline `tests:` or a Panther-format
/// case file: raw records in, and what the rule should make of them.
public struct RuleTestCase: Sendable, Hashable {
    /// Where the case was written.
    public enum Origin: Sendable, Hashable, CustomStringConvertible {
        /// The `index`-th (0-based) entry of a rule file's `tests:`.
        case inline(file: String, index: Int)
        /// A Panther-format case file (`rule_id`, `name`, `expected`, `log`).
        case caseFile(String)

        /// The file holding the case.
        public var file: String {
            switch self {
            case .inline(let file, _), .caseFile(let file): return file
            }
        }

        public var description: String {
            switch self {
            case .inline(let file, let index): return "\(file) tests[\(index)]"
            case .caseFile(let file): return file
            }
        }
    }

    /// What the rule should do.
    public enum Expectation: Sendable, Hashable, CustomStringConvertible {
        /// The rule's per-event condition matches (true) or not (false) the event
        /// (Panther's `rule()`; no threshold, dedup or window state).
        case match(Bool)
        /// The whole sequence, run through a ``DetectionEngine`` in order and then
        /// finished, raises this many alerts (dedup summaries not counted).
        case alerts(Int)

        public var description: String {
            switch self {
            case .match(let b): return b ? "a match" : "no match"
            case .alerts(let n): return n == 1 ? "1 alert" : "\(n) alerts"
            }
        }
    }

    public let ruleID: String
    public let name: String
    public let origin: Origin
    /// The raw records (one JSON document each), in order.
    public let records: [[UInt8]]
    /// The log type to decode the records as; nil detects each record's shape
    /// (Panther logs name theirs in `p_log_type`).
    public let logType: LogType?
    /// The Tor exit set for this case (Panther's `p_enrichment.tor_exit_nodes`).
    public let torExitNodes: [String]
    /// Locations the case gives source IPs, in place of the GeoIP database's answer.
    public let geo: [String: RuleTestLocation]
    public let expectation: Expectation
    /// What the original rule's `title()` / `dedup()` returned, for a cross-check.
    public let observedTitle: String?
    public let observedDedup: String?

    public init(ruleID: String, name: String, origin: Origin, records: [[UInt8]], logType: LogType?,
                torExitNodes: [String], geo: [String: RuleTestLocation] = [:], expectation: Expectation,
                observedTitle: String? = nil, observedDedup: String? = nil) {
        self.ruleID = ruleID
        self.name = name
        self.origin = origin
        self.records = records
        self.logType = logType
        self.torExitNodes = torExitNodes
        self.geo = geo
        self.expectation = expectation
        self.observedTitle = observedTitle
        self.observedDedup = observedDedup
    }

    /// The cases written in a rule's `tests:`; each decodes as its `log_type`,
    /// else the rule's first log type.
    public static func inline(_ rule: Rule) -> [RuleTestCase] {
        rule.tests.enumerated().map { index, test in
            let expectation: Expectation = test.expectedAlerts.map { .alerts($0) } ?? .match(test.expected)
            let records = test.events.map { Array($0.json.utf8) }
            return RuleTestCase(ruleID: rule.id, name: test.name, origin: .inline(file: rule.file, index: index),
                                records: records, logType: test.logType ?? rule.logTypes.first,
                                torExitNodes: test.torExitNodes + records.flatMap(Self.pantherTorExits),
                                geo: test.geo, expectation: expectation)
        }
    }

    /// `p_enrichment.tor_exit_nodes` of a raw record (empty when absent).
    static func pantherTorExits(_ record: [UInt8]) -> [String] {
        RawJSON(record).value(at: "p_enrichment.tor_exit_nodes")?.elements.compactMap(\.stringValue) ?? []
    }
}
