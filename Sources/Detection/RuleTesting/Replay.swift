import AuditEvents
import Enrichment
import Foundation

/// The backtest: decoded events of log files (``ReplayInput``), enriched and run
/// in event-time order through the same ``DetectionEngine`` the runtime runs.
public struct Replay {
    /// Enrichment for every event (GeoIP, Tor set).
    public let enricher: Enricher
    /// Whether Tor membership is judged at each event's time (the runtime's
    /// rule) or against the list as it is now (for old logs and a current list
    /// without history).
    public let torAtEventTime: Bool
    public let settings: EngineSettings

    public init(enricher: Enricher, torAtEventTime: Bool = true, settings: EngineSettings = EngineSettings()) {
        self.enricher = enricher
        self.torAtEventTime = torAtEventTime
        self.settings = settings
    }

    /// Sorts `input` by event time, runs every event through an engine holding
    /// `rules`, then finishes it; `emit` receives each alert as it is raised.
    /// Returns the engine's statistics.
    public func run(_ input: ReplayInput, rules: [Rule], emit: (Alert) -> Void) -> EngineStatistics {
        var sorted = input
        sorted.sortByEventTime()
        var engine = DetectionEngine(rules: rules, settings: settings)
        for entry in sorted.entries {
            let time = torAtEventTime ? entry.event.time.map(\.date) : nil
            let enrichment = enricher.enrich(sourceIPs: entry.event.sourceIPs, at: time)
            for alert in engine.process(entry.event, enrichment: enrichment, origin: entry.origin) { emit(alert) }
        }
        for alert in engine.finish() { emit(alert) }
        return engine.statistics
    }
}
