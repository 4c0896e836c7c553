import AuditEvents
import Detection
import Enrichment
import Foundation
import KafkaIO
import KafkaIOTesting
@testable import Runtime
import Testing

/// Hot reload during a run, against the real broker: the rules folder (polled and forced, as
/// SIGHUP does), the GeoIP file and the Tor list.
@Suite struct ReloadTests {
    /// A raw EKS topic (one partition) and a topology over it whose rules folder (rule A) and
    /// enrichment files are a fresh folder's own copies; `limits` go first in its `limits:`.
    static func setUp(_ broker: TestBroker, geoCheck: String = "30s", limits: String = "") async throws
        -> (topic: String, dir: String, topology: Topology, rules: [Rule]) {
        let name = uniqueName("reload")
        let raw = IngestStageTests.Raw(topic: "\(name)-eks", format: .eks, lines: [])
        try await broker.createTopic(raw.topic, partitions: 1)
        let dir = try workspace(rules: ["Test.Reload.A"])
        var text = IngestStageTests.topology(broker.bootstrap, name: name, raws: [raw])
        text = text.replacingOccurrences(of: "rules: \(repositoryPath("topology/rules"))",
                                         with: "rules: {path: \(dir)/rules, reload_check: 200ms}")
        text = text.replacingOccurrences(of: "geoip: {path: \(repositoryPath("geo/GeoLite2-City.mmdb"))}",
                                         with: "geoip: {path: \(dir)/geo.mmdb, reload_check: \(geoCheck)}")
        text = text.replacingOccurrences(of: "tor: {source: \(repositoryPath("geo/tor/torbulkexitlist-2024-03-12.txt"))}",
                                         with: "tor: {source: \(dir)/tor.txt}")
        text = text.replacingOccurrences(of: "limits: {", with: "limits: {\(limits)")
        try write(text, to: dir + "/t.yaml")
        let (topology, rules) = try TopologyLoader.load(file: dir + "/t.yaml")
        // The test topology's text changed under the replacements if these fail.
        #expect(topology.rulesDirectory == dir + "/rules" && topology.enrichment.geoIP?.path == dir + "/geo.mmdb"
                && topology.enrichment.tor?.source == dir + "/tor.txt")
        return (raw.topic, dir, topology, rules)
    }

    /// A fresh folder with one rule file, a GeoIP test database and a Tor list.
    static func workspace(rules: [String]) throws -> String {
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/rules", withIntermediateDirectories: true)
        for id in rules { try write(testStatelessRule(id), to: "\(dir)/rules/\(id).yaml") }
        try FileManager.default.copyItem(atPath: geoDatabase("GeoIP2-City-Test.mmdb"), toPath: dir + "/geo.mmdb")
        try write("171.25.193.20\n185.220.101.1\n", to: dir + "/tor.txt")
        return dir
    }

    /// A MaxMind test database (the Enrichment tests' copies of ../shared/data/geo).
    static func geoDatabase(_ name: String) -> String {
        repositoryPath("Tests/EnrichmentTests/Fixtures/\(name)")
    }

    /// Replaces a file by atomic rename, as `geoipupdate` does.
    static func replace(_ path: String, withCopyOf source: String) throws {
        let temporary = path + ".new"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: source, toPath: temporary)
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    static func produce(_ lines: [String], to topic: String, _ producer: KafkaProducer) async throws {
        for line in lines {
            try await producer.send(ProducerRecord(topic: topic, key: nil, value: Array(line.utf8), partition: 0))
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func ruleAddedDuringARunFiresForLaterEventsAndABrokenSetIsRefused() async throws {
        try await withBroker { broker in
            let (topic, dir, topology, rules) = try await Self.setUp(broker)
            #expect(topology.rulesReloadCheck == .milliseconds(200))
            #expect(rules.map(\.id) == ["Test.Reload.A"])
            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let detect = DetectStage(topology: topology, rules: rules, logger: testLogger)
            let runIngest = Task { try await ingest.run() }
            let runDetect = Task { try await detect.run() }
            let producer = try testProducer(broker)

            // Offsets 0-2: rule A only.
            try await Self.produce(try eksDenials(0..<3, id: "before"), to: topic, producer)
            let first = await eventually(timeout: .seconds(60)) { detect.statistics.alertsAcknowledged >= 3 }
            #expect(first, "\(detect.statistics)")

            // A rule file added: picked up by the folder check, swapped in between batches.
            try write(testStatelessRule("Test.Reload.B"), to: dir + "/rules/Test.Reload.B.yaml")
            let added = await eventually(timeout: .seconds(20)) { detect.statistics.rulesReloaded >= 1 }
            #expect(added)
            #expect(detect.rules.map(\.id) == ["Test.Reload.A", "Test.Reload.B"])
            // Offsets 3-5: both rules.
            try await Self.produce(try eksDenials(3..<6, id: "after"), to: topic, producer)
            let second = await eventually(timeout: .seconds(30)) { detect.statistics.alertsAcknowledged >= 9 }
            #expect(second, "\(detect.statistics)")

            // A broken rule file: the whole set is refused, the old rules keep running.
            try write("""
                id: Test.Reload.C
                title: "broken"
                severity: info
                log_types: [Amazon.EKS.Audit]
                where: response.code == and
                """, to: dir + "/rules/Test.Reload.C.yaml")
            let refused = await eventually(timeout: .seconds(20)) { detect.statistics.rulesRefused >= 1 }
            #expect(refused)
            // SIGHUP's path (forced): refused again, with the problem's file and line.
            let forced = await detect.reloadRules()
            guard case .refused(let problems) = forced else {
                Issue.record("expected a refusal, got \(forced)")
                return
            }
            #expect(problems.contains { $0.file.hasSuffix("Test.Reload.C.yaml") && $0.line == 5 }, "\(problems)")
            #expect(detect.statistics.rulesReloaded == 1)
            #expect(detect.rules.map(\.id) == ["Test.Reload.A", "Test.Reload.B"])
            // Offsets 6-8: still both rules.
            try await Self.produce(try eksDenials(6..<9, id: "broken"), to: topic, producer)
            let third = await eventually(timeout: .seconds(30)) { detect.statistics.alertsAcknowledged >= 15 }
            #expect(third, "\(detect.statistics)")
            await producer.close()
            runIngest.cancel()
            runDetect.cancel()
            try await runIngest.value
            try await runDetect.value

            // Rule B alerted for the events after its reload only; A for all nine.
            let alerts = try await readTopic(topology.topics.alerts.name, broker, count: 15, timeout: .seconds(60))
            var offsets: [String: [Int]] = [:]
            for record in alerts {
                let rule = try #require(record.header("vigil-rule-id").map { String(decoding: $0, as: UTF8.self) })
                let value = String(decoding: record.value ?? [], as: UTF8.self)
                let offset = try #require(value.firstMatch(of: /"offset":(\d+)/).flatMap { Int($0.1) })
                offsets[rule, default: []].append(offset)
            }
            #expect(offsets["Test.Reload.A"]?.sorted() == Array(0..<9))
            #expect(offsets["Test.Reload.B"]?.sorted() == Array(3..<9))
            #expect(offsets.count == 2)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func replacedGeoIPFileIsUsedForLaterEventsAndSighupRefreshesTor() async throws {
        try await withBroker { broker in
            let (topic, dir, topology, _) = try await Self.setUp(broker, geoCheck: "200ms")
            let before = try GeoDatabase(path: Self.geoDatabase("GeoIP2-City-Test.mmdb")).metadata
            let after = try GeoDatabase(path: Self.geoDatabase("GeoLite2-City-Test.mmdb")).metadata
            #expect(before.databaseType != after.databaseType)
            let ingest = try IngestStage(topology: topology, logger: testLogger)
            let geo = try #require(ingest.geo)
            let runIngest = Task { try await ingest.run() }
            let producer = try testProducer(broker)
            let lines = try eksDenials(0..<3, id: "geo")

            try await Self.produce([lines[0]], to: topic, producer)
            let one = await eventually(timeout: .seconds(60)) { ingest.statistics.eventsAcknowledged >= 1 }
            #expect(one)
            // Replaced by rename: the file check swaps the new database in.
            try Self.replace(dir + "/geo.mmdb", withCopyOf: Self.geoDatabase("GeoLite2-City-Test.mmdb"))
            let swapped = await eventually(timeout: .seconds(20)) { geo.metadata.databaseType == after.databaseType }
            #expect(swapped)
            try await Self.produce([lines[1]], to: topic, producer)
            let two = await eventually(timeout: .seconds(30)) { ingest.statistics.eventsAcknowledged >= 2 }
            #expect(two)
            // A file that is no database: refused, the one in use kept.
            try write("not a database", to: dir + "/geo.mmdb.bad")
            guard rename(dir + "/geo.mmdb.bad", dir + "/geo.mmdb") == 0 else { throw CocoaError(.fileWriteUnknown) }
            let refusedByCheck = await eventually(timeout: .seconds(20)) { geo.reloadCounts.refused >= 1 }
            #expect(refusedByCheck)
            try await Self.produce([lines[2]], to: topic, producer)
            let three = await eventually(timeout: .seconds(30)) { ingest.statistics.eventsAcknowledged >= 3 }
            #expect(three)

            // SIGHUP's path: the GeoIP file is opened again (still refused), the Tor list fetched now.
            #expect(ingest.tor?.snapshot?.count == 2)
            try write("171.25.193.20\n185.220.101.1\n185.220.101.2\n", to: dir + "/tor.txt")
            let reloaded = await ingest.reload()
            if case .refused? = reloaded.geoIP {} else { Issue.record("GeoIP: \(String(describing: reloaded.geoIP))") }
            #expect(reloaded.tor == .updated(count: 3))
            #expect(ingest.tor?.snapshot?.count == 3)
            #expect(geo.metadata.databaseType == after.databaseType)
            await producer.close()
            runIngest.cancel()
            try await runIngest.value

            let records = try await readRepartitioned(topology.topics.repartition.name, broker, events: 3, timeout: .seconds(60))
            let decoder = try RepartitionDecoder()
            let sorted = records.flatMap { decoder.decodeAll($0).compactMap(\.event) }.sorted { $0.origin.offset < $1.origin.offset }
            #expect(sorted.count == 3)
            #expect(sorted.map(\.enrichment.geoDatabaseType) == [before.databaseType, after.databaseType, after.databaseType])
            #expect(sorted.map(\.enrichment.geoBuildEpoch) == [before, after, after].map { Optional($0.buildEpoch) })
        }
    }

    /// Without a broker: a worker holding the two 403-threshold rules' state takes a rule set
    /// where one rule's threshold changed. That rule starts empty and its changelog entries get
    /// tombstones; the other keeps its window (fires on the tenth denial in all) and is not
    /// written again. A worker restored from the changelog with the new rules does the same.
    @Test func aReloadTombstonesTheStateOfAChangedRuleAndKeepsTheOthers() throws {
        let (topology, rules, _) = try ChangelogTests.setup()
        let records = try ChangelogTests.records(try DetectStateTests.denials(0..<10), topology)
        let tp = TopicPartition(topology.topics.repartition.name, 2)
        let worker = try DetectWorker(topology: topology, rules: rules, shared: DetectShared(), index: 1)
        let before = try #require(worker.evaluate(records[0..<5].enumerated().map { ($0.offset, $0.element) },
                                                  diffing: [tp]).changes[tp])
        let key = { (r: ProducerRecord) in String(decoding: r.key ?? [], as: UTF8.self) }
        let changed = "Amazon.EKS.Audit.Multiple403", kept = "Kubernetes.API.Multiple403.PublicIP"
        #expect(before.filter { key($0).contains(changed) }.count == 1 && before.filter { key($0).contains(kept) }.count == 1)

        let dir = try temporaryDirectory()
        for rule in rules {
            var text = try String(contentsOfFile: rule.file, encoding: .utf8)
            if rule.id == changed { text = text.replacingOccurrences(of: "  count: 10", with: "  count: 5") }
            try write(text, to: dir + "/" + (rule.file as NSString).lastPathComponent)
        }
        let reloaded = try RuleLoader.load(directory: dir)
        let effect = RuleReloadEffect(from: rules, to: reloaded)
        #expect(effect.reset == [changed] && effect.kept.count == rules.count - 1)
        // A restart with the new rules (not a hot reload) does the same from the changelog: the
        // changed rule's entry, written under its old shape, is not restored.
        var snapshot = ChangelogRecord.Snapshot()
        for (i, r) in before.enumerated() {
            snapshot.apply(ConsumerRecord(topic: r.topic, partition: 2, offset: Int64(i), key: r.key, value: r.value, headers: r.headers))
        }
        let restarted = try DetectWorker(topology: topology, rules: reloaded, shared: DetectShared(), index: 1)
        #expect(restarted.restore(tp, try #require(snapshot.states(workers: 2).states[1])) == 1)

        worker.reload(reloaded)
        #expect(worker.dirtyPartitions == [tp])
        let whole = try #require(worker.diff([tp])[tp])
        #expect(whole.last.map(key) == "c/1", "the clock closes the diff: \(whole.map(key))")
        let diff = whole.dropLast()
        #expect(diff.map(key) == before.filter { key($0).contains(changed) }.map(key), "\(diff.map(key))")
        #expect(diff.allSatisfy { $0.value == nil })

        #expect(restarted.diff([tp])[tp]?.filter { $0.value == nil }.map(key) == diff.map(key))

        // Five more: the kept rule reaches ten, the changed one five of its new threshold; the
        // restarted worker alerts the same.
        let more = records[5..<10].enumerated().map { ($0.offset, $0.element) }
        let after = ChangelogTests.alerts(worker.evaluate(more, diffing: []))
        #expect(after.map(\.ruleID).sorted() == [changed, kept], "\(after.map(\.ruleID))")
        #expect(after.first { $0.ruleID == kept }?.count == 10)
        #expect(after.first { $0.ruleID == changed }?.count == 5)
        #expect(ChangelogTests.alerts(restarted.evaluate(more, diffing: [])).map(\.id).sorted() == after.map(\.id).sorted())
    }
}
