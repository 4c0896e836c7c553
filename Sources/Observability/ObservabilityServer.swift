import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP/1.1 listener of a running Vigil: `GET /metrics` (Prometheus text), `GET /health`
/// and `GET /ready` (200 or 503 with a one-line-per-stage body).
///
/// Bound by ``bind(host:port:endpoints:logger:)`` before the stages start (so /health answers
/// while state is restored and a taken port fails the start-up at once); as a `Service` it
/// serves until the graceful shutdown of its group reaches it, which `vigil run` orders last.
///
/// - Important: the endpoint closures run on a NIO event loop thread: they must not block
///   (taking a short lock is fine; I/O is not).
public final class ObservabilityServer: Service, Sendable {
    /// What the endpoints answer.
    public struct Endpoints: Sendable {
        /// The Prometheus exposition text.
        public var metrics: @Sendable () -> [UInt8]
        /// Liveness: every loop of the process alive, none failed or stuck.
        public var health: @Sendable () -> ProbeResult
        /// Readiness: every stage has its assignment restored and is processing.
        public var ready: @Sendable () -> ProbeResult

        public init(metrics: @escaping @Sendable () -> [UInt8], health: @escaping @Sendable () -> ProbeResult,
                    ready: @escaping @Sendable () -> ProbeResult) {
            self.metrics = metrics
            self.health = health
            self.ready = ready
        }
    }

    private let channel: any Channel
    private let logger: Logger
    /// The address the listener is bound to (port 0 asked for: the port the kernel chose).
    public let host: String
    public let port: Int

    private init(channel: any Channel, host: String, port: Int, logger: Logger) {
        self.channel = channel
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// Binds the listener now; throws when the address cannot be bound (taken, not local).
    public static func bind(host: String, port: Int, endpoints: Endpoints, logger: Logger) async throws -> ObservabilityServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPEndpointHandler(endpoints: endpoints))
                }
            }
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
        let channel = try await bootstrap.bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        logger.notice("observability: listening", metadata: [
            "address": "\(host):\(bound)", "endpoints": "/metrics /health /ready"])
        return ObservabilityServer(channel: channel, host: host, port: bound, logger: logger)
    }

    /// Serves until a graceful shutdown (or cancellation), then closes the listener.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Stops listening (open connections finish their answer). Idempotent.
    public func close() async {
        do {
            try await channel.close()
            logger.info("observability: listener closed")
        } catch ChannelError.alreadyClosed {
        } catch {
            logger.warning("observability: closing the listener failed", metadata: ["error": "\(error)"])
        }
    }
}

/// A probe's answer: healthy/ready or not, and why (one line per stage).
public struct ProbeResult: Sendable, Equatable {
    public var ok: Bool
    public var detail: String

    public init(ok: Bool, detail: String) {
        self.ok = ok
        self.detail = detail
    }
}

/// Answers one request per `end` part; the pipeline's pipelining handler keeps responses in order.
private final class HTTPEndpointHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let endpoints: ObservabilityServer.Endpoints
    private var head: HTTPRequestHead?

    init(endpoints: ObservabilityServer.Endpoints) {
        self.endpoints = endpoints
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            break
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        var status = HTTPResponseStatus.ok
        var contentType = "text/plain; charset=utf-8"
        var body: [UInt8]
        if request.method != .GET && request.method != .HEAD {
            status = .methodNotAllowed
            body = Array("only GET\n".utf8)
        } else {
            switch path {
            case "/metrics":
                contentType = "text/plain; version=0.0.4; charset=utf-8"
                body = endpoints.metrics()
            case "/health", "/healthz":
                let result = endpoints.health()
                status = result.ok ? .ok : .serviceUnavailable
                body = Array(((result.ok ? "ok\n" : "unhealthy\n") + result.detail).utf8)
            case "/ready", "/readyz":
                let result = endpoints.ready()
                status = result.ok ? .ok : .serviceUnavailable
                body = Array(((result.ok ? "ready\n" : "not ready\n") + result.detail).utf8)
            default:
                status = .notFound
                body = Array("not found: try /metrics, /health or /ready\n".utf8)
            }
        }
        // One answer per connection: a scrape every few seconds gains nothing from keep-alive,
        // and a closed listener then leaves no connection answering behind it.
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
                      promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        let channel = context.channel
        done.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
}
