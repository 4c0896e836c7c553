import Metrics
import Prometheus
import Synchronization

/// The Prometheus backend behind swift-metrics, made once per process.
///
/// swift-metrics allows one bootstrap per process, and a metric made before it stays a no-op:
/// `vigil run` calls ``bootstrap()`` before it makes anything that counts.
public enum PrometheusBootstrap {
    private static let made = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Histogram buckets of Vigil's latency metrics (ops/metrics.md); others get the
    /// library's defaults (5 ms to 10 s).
    public static let durationBuckets: [String: [Duration]] = [
        // A batch: sub-millisecond for a few records, seconds for a large one in a debug build.
        "vigil_processing_seconds": [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                     .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                     .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                     .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)],
        // Raw record to delivered alert: the goal is p99 <= 100 ms; backlogs take minutes.
        "vigil_alert_latency_seconds": [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                        .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
                                        .seconds(300)],
        "vigil_state_restore_seconds": [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
                                        .seconds(30), .seconds(60), .seconds(150)],
    ]

    /// Bootstraps swift-metrics with a Prometheus registry the first time; returns that registry.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        made.withLock { existing in
            if let existing { return existing }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.durationHistogramBuckets = durationBuckets
            MetricsSystem.bootstrap(factory)
            existing = registry
            return registry
        }
    }
}
