/// The one error type of the Enrichment module.
public struct EnrichmentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a closed set.
    public enum Code: String, Sendable, Hashable {
        /// The GeoIP database file did not open (missing, unreadable, not MMDB).
        case databaseOpenFailed
        /// The database opened but is not a City or Country database.
        case unsupportedDatabase
        /// An HTTP request failed: connection, timeout, status, truncated body.
        case fetchFailed
        /// A file could not be read or written.
        case fileFailed
        /// A Tor exit list did not parse in any known format.
        case unparseableList
        /// A Tor exit list parsed but held no addresses.
        case emptyList
        /// A Tor exit list shrank beyond the configured fraction of the last good one.
        case shrunkenList
        /// A persisted state file did not decode.
        case invalidState
        /// A configuration value is out of range or malformed.
        case invalidConfiguration
    }

    public let code: Code
    /// A human-readable explanation.
    public let detail: String
    /// The C status (libmaxminddb) or HTTP status, where there was one.
    public let status: Int?

    public init(_ code: Code, _ detail: String, status: Int? = nil) {
        self.code = code
        self.detail = detail
        self.status = status
    }

    public var description: String {
        status.map { "\(code.rawValue): \(detail) (status \($0))" } ?? "\(code.rawValue): \(detail)"
    }
}
