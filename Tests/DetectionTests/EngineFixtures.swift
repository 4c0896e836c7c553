import AuditEvents
import Enrichment
import Foundation
@testable import Detection

/// Rules, events and runs for the engine tests.
enum EngineFixtures {
    static let t0 = EventTime(seconds: 1_743_832_800)  // 2025-04-05T06:00:00Z, on the hour

    /// A rule made in code (the loader's checks are tested elsewhere).
    static func rule(id: String = "Test.Rule", where text: String = "response.code == 403",
                     threshold: Int? = nil, dedupMinutes: Int64? = nil, groupBy: [String] = ["source.ip"],
                     aggregate: Rule.Aggregate? = nil, output: [String] = ["source.ip", "user.name"],
                     title: String = "403 from [{source.ip}] by [{user.name}]") throws -> Rule {
        let fields = groupBy.compactMap(FieldReference.init)
        return Rule(id: id, title: try TitleTemplate(title), description: "", severity: .info,
                    logTypes: [.eksAudit], mitre: ["TA0007:T1613"], runbook: "look", references: [], notes: "",
                    enabled: true, condition: try Condition(text),
                    threshold: threshold.map { Rule.Threshold(count: $0, groupBy: fields) },
                    dedup: dedupMinutes.map { Rule.Dedup(period: RuleDuration(seconds: $0 * 60), groupBy: fields,
                                                         key: try? TitleTemplate("k_{source.ip}")) },
                    aggregate: aggregate, output: output.compactMap(FieldReference.init), tests: [], file: "test.yaml")
    }

    /// An EKS audit event at `t0 + seconds`.
    static func event(at seconds: Double, ip: String = "5.5.5.5", code: Int = 403, user: String = "bob",
                      groups: [String] = ["system:authenticated"], agent: String = "kubectl/v1.29",
                      withTime: Bool = true) -> AuditEvent {
        let time = EventTime(nanos: t0.nanos + Int64(seconds * 1e9)).description
        let groupList = groups.map { "\"\($0)\"" }.joined(separator: ",")
        let stamps = withTime ? #","requestReceivedTimestamp":"\#(time)","stageTimestamp":"\#(time)""# : ""
        let json = """
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a\(seconds)",\
            "stage":"ResponseComplete","requestURI":"/api/v1/secrets","verb":"list",\
            "user":{"username":"\(user)","groups":[\(groupList)]},"sourceIPs":["\(ip)"],\
            "userAgent":"\(agent)","responseStatus":{"code":\(code)}\(stamps)}
            """
        return (try? SeedRuleFixtures.decode(json, .eks)) ?? AuditEvent(logType: .eksAudit)
    }

    /// One input: an event and its line in a pretend file.
    struct Input {
        var event: AuditEvent
        var line: Int
        var enrichment: EventEnrichment = .none
    }

    /// `alert` as the dedup summary of its window reads when the window counted
    /// `count` matches: the same JSON but for kind, count, last_seen and references
    /// (those taken from `summary`, the one to check).
    static func summary(of alert: Alert, count: Int, like summary: Alert) -> Alert {
        var expected = alert
        expected.kind = .summary
        expected.count = count
        expected.lastSeen = summary.lastSeen
        expected.events = summary.events
        expected.eventsOmitted = summary.eventsOmitted
        return expected
    }

    static func inputs(_ events: [AuditEvent]) -> [Input] {
        events.enumerated().map { Input(event: $0.element, line: $0.offset + 1) }
    }

    /// Runs `inputs` in the given order through a fresh engine, then finishes.
    static func run(_ rules: [Rule], _ inputs: [Input], settings: EngineSettings = .init(),
                    finish: Bool = true) -> (alerts: [Alert], engine: DetectionEngine) {
        var engine = DetectionEngine(rules: rules, settings: settings)
        var alerts: [Alert] = []
        for input in inputs {
            alerts += engine.process(input.event, enrichment: input.enrichment,
                                     origin: .file(path: "events.jsonl", line: input.line))
        }
        if finish { alerts += engine.finish() }
        return (alerts, engine)
    }

    /// What must not depend on arrival order: every summary whole; of an alert,
    /// its id, kind, count and first_seen.
    static func orderFree(_ alerts: [Alert]) -> [String] {
        alerts.map { alert in
            alert.kind == .summary ? alert.json
                : "\(alert.id) \(alert.kind) \(alert.count) \(alert.firstSeen) \(alert.statistics)"
        }.sorted()
    }
}

extension Array {
    /// A reproducible shuffle: element `i * stride mod count` at position `i`, with
    /// `stride` made coprime to the count (so every element appears once).
    func permuted(_ stride: Int) -> [Element] {
        guard count > 1 else { return self }
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        var step = Swift.max(1, stride % count)
        while gcd(step, count) != 1 { step += 1 }
        return indices.map { self[($0 * step + stride) % count] }
    }
}
