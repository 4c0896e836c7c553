import AuditEvents
import Detection
import Foundation
import KafkaIO
import KafkaIOTesting
@testable import Runtime
import Testing

/// A repartition partition reads events of many raw partitions, each in its own event-time
/// order but interleaved a chunk at a time (a backlog is fetched partition by partition): the
/// detect clock keeps the pace of the slowest raw partition that sent within `idle_advance`,
/// so one read ahead does not make the others' events late.
@Suite struct EventTimeInputsTests {
    static let ahead = "81.2.69.160", behind = "176.95.188.101"

    /// An EKS 403 from `ip`, `minutes` and `second` after 14:45:00 on 2023-12-07.
    static func line(_ ip: String, minutes: Int, second: Int = 0, id: String) throws -> String {
        let m = 45 + minutes
        return try eksDenial(second: second, auditID: id, ip: ip)
            .replacingOccurrences(of: "2023-12-07T14:45:", with: String(format: "2023-12-07T%02d:%02d:", 14 + m / 60, m % 60))
    }

    /// Records of the lines, from raw partition `raw` of one topic, for repartition partition 2.
    static func records(_ lines: [String], raw: Int32, from offset: inout Int64, _ topology: Topology) throws -> [ConsumerRecord] {
        let decoder = try IngestStageTests.Raw(topic: "u-eks", format: .eks, lines: []).decoder(topology)
        return try lines.map { line in
            let event = try #require(decoder.decode(line).compactMap(\.event).first)
            offset += 1
            let r = RepartitionCodec.encode(event, enrichment: .none, origin: RawOrigin(topic: "u-eks", partition: raw, offset: offset),
                                            topic: topology.topics.repartition.name)
            return ConsumerRecord(topic: r.topic, partition: 2, offset: offset, key: r.key, value: r.value, headers: r.headers)
        }
    }

    /// Raw partitions 0 and 1 both send at 14:45; then partition 0's next 29 minutes come in one
    /// batch; then partition 1's twelve 403s of 14:46 (both 403 thresholds fire at ten). The
    /// alerts of that burst, and the worker's engine counters.
    func burstBehindAPartitionReadAhead(idleAdvance: Duration) throws -> (alerts: [Alert], statistics: EngineStatistics) {
        var (topology, rules, _) = try ChangelogTests.setup()
        topology.limits.idleAdvance = idleAdvance
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let worker = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 0)
        var offset: Int64 = 0
        let t0 = ContinuousClock.now
        func run(_ records: [ConsumerRecord], at seconds: Double) -> [Alert] {
            ChangelogTests.alerts(worker.evaluate(records.enumerated().map { ($0.offset, $0.element) }, diffing: [tp],
                                                  now: t0 + .milliseconds(Int(seconds * 1000))))
        }
        var alerts: [Alert] = []
        for (i, at) in [0.0, 0.5].enumerated() {
            alerts += run(try Self.records([try Self.line(Self.ahead, minutes: 0, second: i, id: "a-\(i)")], raw: 0, from: &offset, topology)
                          + Self.records([try Self.line("89.160.20.112", minutes: 0, second: i, id: "b-\(i)")], raw: 1, from: &offset, topology),
                          at: at)
        }
        alerts += run(try Self.records(try (1...29).map { try Self.line(Self.ahead, minutes: $0, id: "a-m\($0)") },
                                       raw: 0, from: &offset, topology), at: 1.2)
        let burst = run(try Self.records(try (0..<12).map { try Self.line(Self.behind, minutes: 1, second: $0, id: "b-s\($0)") },
                                         raw: 1, from: &offset, topology), at: 1.4)
        return (burst, worker.statistics)
    }

    @Test func aRawPartitionReadAheadDoesNotMakeTheOthersEventsLate() throws {
        let (alerts, statistics) = try burstBehindAPartitionReadAhead(idleAdvance: .seconds(1))
        #expect(alerts.map(\.ruleID).sorted() == ["Amazon.EKS.Audit.Multiple403", "Kubernetes.API.Multiple403.PublicIP"])
        #expect(alerts.allSatisfy { $0.source?.ip == Self.behind }, "\(alerts.map(\.source?.ip))")
        #expect(statistics.lateEvents == 0)
    }

    /// A raw partition silent for `idle_advance` no longer holds the clock (else one quiet
    /// partition would stop every window from closing): here both went quiet between batches,
    /// so partition 0's 29 minutes moved the clock and the burst behind them is late.
    @Test func aRawPartitionSilentForIdleAdvanceNoLongerHoldsTheClock() throws {
        let (alerts, statistics) = try burstBehindAPartitionReadAhead(idleAdvance: .milliseconds(100))
        #expect(alerts.isEmpty)
        #expect(statistics.lateEvents == 12)
    }
}
