import AuditEvents
import Foundation

/// Event time inside the engine: nanoseconds since the epoch (Int64 covers
/// 1677–2262; times outside are clamped).
typealias Nanos = Int64

extension EventTime {
    /// Nanoseconds since the epoch, clamped to Int64.
    var nanos: Nanos {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = product.addingReportingOverflow(Int64(nanoseconds))
        return overflow2 ? .max : sum
    }

    init(nanos: Nanos) {
        var s = nanos / 1_000_000_000
        var n = nanos % 1_000_000_000
        if n < 0 { n += 1_000_000_000; s -= 1 }
        self.init(seconds: s, nanoseconds: Int32(n))
    }
}

extension Date {
    var nanos: Nanos {
        let ns = (timeIntervalSince1970 * 1e9).rounded(.down)
        if ns >= 9.2e18 { return .max }
        if ns <= -9.2e18 { return .min }
        return Int64(ns)
    }
}

extension Int64 {
    /// Seconds as nanoseconds, saturating (a period of centuries stays positive).
    var secondsAsNanos: Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (self < 0 ? .min : .max) : product
    }

    /// Saturating add (window ends near the ends of time).
    func plus(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
