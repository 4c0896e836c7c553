import AuditEvents
import Foundation

extension EventTime {
    /// The instant as a Foundation date (enrichment looks the Tor list up at event time).
    /// AuditEvents stays free of Foundation, so the conversion lives here.
    public var date: Date {
        Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(nanoseconds) / 1e9)
    }
}
