import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where a Tor exit list comes from: an HTTP(S) URL or a file.
public enum TorExitSource: Sendable, Hashable, CustomStringConvertible {
    case url(String)
    case file(String)

    /// `http://` and `https://` are URLs; anything else (or `file://...`) is a path.
    public init(_ text: String) {
        let lower = text.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            self = .url(text)
        } else if lower.hasPrefix("file://") {
            self = .file(String(text.dropFirst("file://".count)))
        } else {
            self = .file(text)
        }
    }

    public var description: String {
        switch self {
        case .url(let url): return url
        case .file(let path): return path
        }
    }
}

/// One download of an exit list, conditional on the last good one's validators.
struct TorExitFetcher: Sendable {
    enum Result: Sendable {
        case notModified
        case body([UInt8], etag: String?, lastModified: String?)
    }

    let source: TorExitSource
    let client: HTTPClient
    let timeout: Duration
    let maximumBytes: Int

    /// Fetches once. Errors say whether a retry may help (`retryable`).
    func fetch(etag: String?, lastModified: String?) async throws(TorFetchFailure) -> Result {
        switch source {
        case .file(let path):
            return try readFile(path, lastModified: lastModified)
        case .url(let url):
            do {
                return try await withDeadline(timeout) {
                    try await self.download(url, etag: etag, lastModified: lastModified)
                }
            } catch let failure as TorFetchFailure {
                throw failure
            } catch {
                throw TorFetchFailure(EnrichmentError(.fetchFailed, "\(url): \(error)"), retryable: true)
            }
        }
    }

    private func download(_ url: String, etag: String?, lastModified: String?) async throws -> Result {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "vigil-tor-exit-list")
        if let etag { request.headers.add(name: "If-None-Match", value: etag) }
        if let lastModified { request.headers.add(name: "If-Modified-Since", value: lastModified) }
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let response = try await client.execute(request, timeout: .nanoseconds(nanoseconds))
        switch response.status.code {
        case 304:
            return .notModified
        case 200:
            let buffer = try await response.body.collect(upTo: maximumBytes)
            if let declared = response.headers.first(name: "Content-Length").flatMap(Int.init),
               declared != buffer.readableBytes {
                throw TorFetchFailure(EnrichmentError(
                    .fetchFailed, "\(url): body is \(buffer.readableBytes) bytes, Content-Length says \(declared)"),
                                      retryable: true)
            }
            return .body(Array(buffer.readableBytesView),
                         etag: response.headers.first(name: "ETag"),
                         lastModified: response.headers.first(name: "Last-Modified"))
        default:
            let code = Int(response.status.code)
            // 5xx, 408 and 429 are worth another try; other statuses are not.
            let retryable = code >= 500 || code == 408 || code == 429
            throw TorFetchFailure(EnrichmentError(.fetchFailed, "\(url): HTTP \(code)", status: code),
                                  retryable: retryable)
        }
    }

    /// Reads a file; its mtime plays the part of Last-Modified.
    private func readFile(_ path: String, lastModified: String?) throws(TorFetchFailure) -> Result {
        let stamp = FileSignature(path: path).map { "\($0.inode)-\($0.size)-\($0.modifiedSeconds).\($0.modifiedNanoseconds)" }
        if let stamp, stamp == lastModified { return .notModified }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TorFetchFailure(EnrichmentError(.fileFailed, "\(path): cannot be read"), retryable: false)
        }
        guard data.count <= maximumBytes else {
            throw TorFetchFailure(EnrichmentError(.fileFailed, "\(path): larger than \(maximumBytes) bytes"),
                                  retryable: false)
        }
        return .body(Array(data), etag: nil, lastModified: stamp)
    }
}

/// A failed fetch and whether retrying may help.
struct TorFetchFailure: Error, Sendable {
    let error: EnrichmentError
    let retryable: Bool

    init(_ error: EnrichmentError, retryable: Bool) {
        self.error = error
        self.retryable = retryable
    }
}

/// Runs `operation`, cancelling it and throwing a timeout after `limit`.
func withDeadline<T: Sendable>(_ limit: Duration,
                               _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TorFetchFailure(EnrichmentError(.fetchFailed, "timed out after \(limit)"), retryable: true)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else {
            throw TorFetchFailure(EnrichmentError(.fetchFailed, "no result"), retryable: true)
        }
        return first
    }
}
