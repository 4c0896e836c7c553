import AuditEvents
import Enrichment
import Foundation

/// What one test case came to.
public struct RuleTestResult: Sendable {
    public let testCase: RuleTestCase
    /// Why the case failed; nil when it passed.
    public let failure: String?
    /// What a reader should know even when the case passed: records that
    /// decoded to no event, title or dedup strings that differ from the ones
    /// the original rule produced.
    public let notes: [String]

    public var passed: Bool { failure == nil }
}

/// Runs rule test cases: single-event cases through the rule's per-event match
/// (``Rule/matches(_:enrichment:)``: log type and condition, no state),
/// sequences through a ``DetectionEngine``.
///
/// Each case gets its own enrichment: the case's Tor exit set, and the location
/// of the first source IP when a GeoIP database is given.
public struct RuleTestRunner: Sendable {
    public let rules: [String: Rule]
    public let geo: GeoLocator?
    /// Whether a title or dedup string that differs from the case's
    /// `observed_title` / `observed_dedup` fails the case (otherwise a note).
    public let strictCrossCheck: Bool
    /// The engine settings sequence cases run with.
    public let settings: EngineSettings

    public init(rules: [Rule], geo: GeoLocator? = nil, strictCrossCheck: Bool = false,
                settings: EngineSettings = EngineSettings()) {
        self.rules = Dictionary(rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.geo = geo
        self.strictCrossCheck = strictCrossCheck
        self.settings = settings
    }

    /// Runs every case, in order.
    public func run(_ cases: [RuleTestCase]) -> [RuleTestResult] {
        cases.map(run)
    }

    public func run(_ testCase: RuleTestCase) -> RuleTestResult {
        var notes: [String] = []
        func result(_ failure: String?) -> RuleTestResult {
            RuleTestResult(testCase: testCase, failure: failure, notes: notes)
        }
        guard let rule = rules[testCase.ruleID] else {
            return result("no rule with id '\(testCase.ruleID)' was loaded")
        }
        let (events, failure) = decode(testCase, notes: &notes)
        if let failure { return result(failure) }
        let enrichments = events.map {
            Self.enrichment(for: $0, geo: geo, tor: testCase.torExitNodes, locations: testCase.geo)
        }
        switch testCase.expectation {
        case .match(let expected):
            let matching = zip(events, enrichments).filter { rule.matches($0, enrichment: $1) }
            if let (event, enrichment) = matching.first {
                let differences = crossCheck(rule, testCase, event, enrichment)
                if strictCrossCheck, !differences.isEmpty, expected {
                    return result(differences.joined(separator: "; "))
                }
                notes += differences
            }
            let matched = !matching.isEmpty
            guard matched != expected else { return result(nil) }
            if events.isEmpty { return result("expected a match, but the records decoded to no event") }
            return result(expected ? "expected a match; the rule did not match (\(why(rule, events[0])))"
                                   : "expected no match; the rule matched")
        case .alerts(let expected):
            let alerts = sequenceAlerts(rule, testCase, events, enrichments)
            let raised = alerts.filter { $0.kind == .alert }
            guard raised.count != expected else { return result(nil) }
            let summaries = alerts.count - raised.count
            return result("expected \(testCase.expectation); the engine raised \(raised.count)"
                + (summaries > 0 ? " (and \(summaries) dedup summaries)" : "")
                + " from \(events.count) events")
        }
    }

    /// A hint at why a single event did not match.
    private func why(_ rule: Rule, _ event: AuditEvent) -> String {
        guard rule.reads(event.logType) else {
            return "the event decoded as \(event.logType.rawValue), which the rule does not read; it reads "
                + rule.logTypes.map(\.rawValue).joined(separator: ", ")
        }
        return "condition: \(rule.condition.text.replacingOccurrences(of: "\n", with: " "))"
    }

    /// Every event of every record; a dead-lettered record fails the case, a
    /// skipped one (a non-Kubernetes Azure category) is a note.
    private func decode(_ testCase: RuleTestCase, notes: inout [String]) -> ([AuditEvent], failure: String?) {
        let decoder: AuditRecordDecoder
        do {
            decoder = try AuditRecordDecoder(format: testCase.logType?.sourceFormat ?? .auto)
        } catch {
            return ([], "no decoder: \(error)")
        }
        var events: [AuditEvent] = []
        var outcomes: [DecodeOutcome] = []
        for (index, record) in testCase.records.enumerated() {
            outcomes.removeAll(keepingCapacity: true)
            decoder.decode(record, into: &outcomes)
            let which = testCase.records.count > 1 ? "event \(index + 1)" : "the log"
            for outcome in outcomes {
                switch outcome {
                case .decoded(let event): events.append(event)
                case .skipped(let issue): notes.append("\(which) was skipped by the decoder: \(issue)")
                case .deadLetter(let issue):
                    return ([], "\(which) does not decode: \(issue)")
                }
            }
        }
        return (events, nil)
    }

    /// A case's enrichment of `event`: the location of its first source IP from
    /// `locations`, else from `geo`; Tor membership from the case's exit set `tor`.
    static func enrichment(for event: AuditEvent, geo: GeoLocator?, tor: [String],
                           locations: [String: RuleTestLocation] = [:]) -> EventEnrichment {
        var out = Enricher(geo: geo, tor: nil).enrich(sourceIPs: event.sourceIPs, at: nil)
        if let primary = event.sourceIPs.first, let location = locations[primary] { out.geo = location.location }
        let set = EventEnrichment(torExitIPs: tor)
        out.torExitIPs = event.sourceIPs.filter(set.isTorExit)
        return out
    }

    /// Differences between the rule's title / dedup key and what the original produced.
    private func crossCheck(_ rule: Rule, _ testCase: RuleTestCase, _ event: AuditEvent,
                            _ enrichment: EventEnrichment) -> [String] {
        let context = AuditEventContext(event: event, enrichment: enrichment)
        var differences: [String] = []
        if let observed = testCase.observedTitle {
            let title = rule.title.render(context)
            if title != observed { differences.append("title \"\(title)\" differs from the original's \"\(observed)\"") }
        }
        if let observed = testCase.observedDedup {
            if let key = rule.dedup?.key {
                let dedup = key.render(context)
                if dedup != observed {
                    differences.append("dedup key \"\(dedup)\" differs from the original's \"\(observed)\"")
                }
            } else {
                differences.append("the rule has no dedup key; the original's was \"\(observed)\"")
            }
        }
        return differences
    }
}
