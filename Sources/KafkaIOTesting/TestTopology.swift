import Foundation

/// A topology file's text for tests of Vigil's stages against `bootstrap` (a test broker):
/// groups and Vigil's topics prefixed with `name` (4 repartition and changelog partitions,
/// frames of up to 64 events on the repartition topic),
/// `sources` as YAML flow mappings (`{topic: t, format: eks}`), the seed rules, the default
/// GeoIP file and the Tor snapshot of the repository, consumer timings tuned for the test
/// broker (DESIGN.md decision 2), 2 workers per stage, `/metrics` on any free loopback port
/// (processes of one test never meet on a port); `statisticsInterval` turns librdkafka's
/// statistics (consumer lag) on.
public func testTopology(_ bootstrap: String, name: String, sources: [String], maxPollInterval: String = "7s",
                         commitInterval: String = "1s", statisticsInterval: String? = nil,
                         deliveryTimeout: String = "120s") -> String {
    let path = { (relative: String) in repositoryRoot.appendingPathComponent(relative).path }
    return """
        kafka:
          bootstrap: \(bootstrap)
          groups: {ingest: \(name)-ingest, detect: \(name)-detect}
          session_timeout: 6s
          max_poll_interval: \(maxPollInterval)
          heartbeat_interval: 1s
          commit_interval: \(commitInterval)
          linger: 1ms
          delivery_timeout: \(deliveryTimeout)\(statisticsInterval.map { "\n  statistics_interval: \($0)" } ?? "")
          properties:
            topic.metadata.refresh.interval.ms: "1000"
        sources:
        \(sources.map { "  - " + $0 }.joined(separator: "\n"))
        enrichment:
          geoip: {path: \(path("geo/GeoLite2-City.mmdb"))}
          tor: {source: \(path("geo/tor/torbulkexitlist-2024-03-12.txt"))}
        rules: \(path("topology/rules"))
        topics:
          repartition: {name: \(name).events, partitions: 4, frame_events: 64}
          alerts: {name: \(name).alerts, partitions: 1}
          dead_letter: {name: \(name).dlq, partitions: 1}
          changelog: {name: \(name).changelog, partitions: 4}
        workers: {ingest: 2, detect: 2}
        limits: {shutdown_timeout: 10s, allowed_lateness: 10m, idle_advance: 1s}
        observability: {listen: "127.0.0.1:0"}
        """
}

/// A rule file's text for tests: a stateless rule with this id, one alert per EKS 403.
public func testStatelessRule(_ id: String) -> String {
    """
    id: \(id)
    title: "403 from [{source.ip}]"
    severity: info
    log_types: [Amazon.EKS.Audit]
    where: response.code == 403
    """
}
