import Enrichment
import Metrics
import Synchronization

/// The enrichment gauges and counters that are read off the GeoIP locator and the Tor list
/// when `/metrics` is scraped (ops/metrics.md, "Enrichment"): cache lookups by result, the
/// GeoIP build epoch, the Tor list's age. Lookups pay nothing for them: the cache counts in
/// its own shards and the counters move by the difference since the last sample.
final class EnrichmentMetrics: Sendable {
    private let hits = Counter(label: "vigil_geoip_lookups_total", dimensions: [("result", "hit")])
    private let misses = Counter(label: "vigil_geoip_lookups_total", dimensions: [("result", "miss")])
    private let torAge = Gauge(label: "vigil_tor_list_age_seconds")
    private let state = Mutex<(hits: Int, misses: Int, epoch: (database: String, gauge: Gauge)?)>((0, 0, nil))

    func sample(geo: GeoLocator?, tor: TorExitList?) {
        if let geo {
            let counts = geo.cacheStatistics
            let metadata = geo.metadata
            let sampled: (Int, Int, Gauge, Gauge?) = state.withLock { s in
                let h = max(0, counts.hits - s.hits), m = max(0, counts.misses - s.misses)
                s.hits = max(s.hits, counts.hits)
                s.misses = max(s.misses, counts.misses)
                if let e = s.epoch, e.database == metadata.databaseType { return (h, m, e.gauge, nil) }
                let gauge = Gauge(label: "vigil_geoip_build_epoch_seconds", dimensions: [("database", metadata.databaseType)])
                let old = s.epoch?.gauge
                s.epoch = (metadata.databaseType, gauge)
                return (h, m, gauge, old)
            }
            let (newHits, newMisses, epoch, replaced) = sampled
            replaced?.destroy()
            if newHits > 0 { hits.increment(by: newHits) }
            if newMisses > 0 { misses.increment(by: newMisses) }
            epoch.record(Int64(clamping: metadata.buildEpoch))
        }
        if let tor, let age = tor.status.age {
            torAge.record(age)
        }
    }
}
