import Foundation
import Logging
import Observability
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A GET over loopback with URLSession: status and body.
func get(_ port: Int, _ path: String, method: String = "GET") async throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = method
    request.timeoutInterval = 10
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? -1, String(decoding: data, as: UTF8.self))
}

@Suite struct ObservabilityServerTests {
    @Test func endpointsAnswerWhatTheProbesSayAndUnknownPathsAre404() async throws {
        let healthy = Mutex(true), ready = Mutex(false)
        let endpoints = ObservabilityServer.Endpoints(
            metrics: { Array("# TYPE vigil_x counter\nvigil_x 1\n".utf8) },
            health: { ProbeResult(ok: healthy.withLock { $0 }, detail: "ingest: running\n") },
            ready: { ProbeResult(ok: ready.withLock { $0 }, detail: "detect: restoring\n") })
        let server = try await ObservabilityServer.bind(host: "127.0.0.1", port: 0, endpoints: endpoints,
                                                        logger: Logger(label: "test"))
        #expect(server.port > 0)

        let metrics = try await get(server.port, "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("vigil_x 1"))
        var readiness = try await get(server.port, "/ready")
        #expect(readiness.status == 503 && readiness.body.contains("detect: restoring"), "\(readiness)")
        ready.withLock { $0 = true }
        readiness = try await get(server.port, "/ready")
        #expect(readiness.status == 200, "\(readiness)")
        #expect(try await get(server.port, "/health").status == 200)
        healthy.withLock { $0 = false }
        let health = try await get(server.port, "/health")
        #expect(health.status == 503 && health.body.hasPrefix("unhealthy\n"), "\(health)")
        #expect(try await get(server.port, "/nope").status == 404)
        #expect(try await get(server.port, "/metrics", method: "POST").status == 405)

        // A second listener on the same port is refused (the start-up fails, before any stage runs).
        await #expect(throws: (any Error).self) {
            _ = try await ObservabilityServer.bind(host: "127.0.0.1", port: server.port, endpoints: endpoints,
                                                   logger: Logger(label: "test"))
        }
        await server.close()
        await #expect(throws: (any Error).self) { _ = try await get(server.port, "/health") }
    }
}

@Suite struct JSONLogHandlerTests {
    @Test func eachLogEventIsOneParsableJSONObjectWithItsMetadataShape() throws {
        let pipe = Pipe()
        var handler = JSONLogHandler(label: "vigil.test", fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        handler.logLevel = .debug
        handler[metadataKey: "stage"] = "ingest"
        var logger = Logger(label: "vigil.test") { _ in handler }
        logger.logLevel = .debug
        logger.info("partitions assigned \"quoted\"\nsecond line\u{1}", metadata: [
            "partitions": .array(["t[0]", "t[1]"]), "counts": .dictionary(["records": "12"])])
        logger.trace("not written: below the level")
        logger.warning("done")
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2, "\(text)")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["level"] as? String == "info")
        #expect(first["label"] as? String == "vigil.test")
        #expect(first["message"] as? String == "partitions assigned \"quoted\"\nsecond line\u{1}")
        #expect(first["source"] as? String == "ObservabilityTests")
        let metadata = try #require(first["metadata"] as? [String: Any])
        #expect(metadata["stage"] as? String == "ingest")
        #expect(metadata["partitions"] as? [String] == ["t[0]", "t[1]"])
        #expect((metadata["counts"] as? [String: String]) == ["records": "12"])
        let time = try #require(first["time"] as? String)
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(parser.date(from: time) != nil, "\(time)")
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["level"] as? String == "warning" && second["message"] as? String == "done")
    }
}
