import CRdKafka
import Logging

/// What librdkafka's callbacks reach through the handle's `opaque`: the logger and the
/// owner's hooks. Set up before `rd_kafka_new` and never mutated afterwards.
///
/// - Important: it must outlive the handle; `RDKafkaHandle` retains it until after
///   `rd_kafka_destroy` has returned, after which librdkafka calls nothing.
final class RDKafkaContext: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a `let` of Sendable type, or is
    // assigned only before the handle exists (single-threaded set-up) and read afterwards.
    let logger: Logger
    var onStatistics: (@Sendable (KafkaStatistics) -> Void)?
    var onError: (@Sendable (KafkaError) -> Void)?
    /// Called on the poll thread from the rebalance callback (consumers only).
    var onRebalance: ((rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?
    /// Called on the poll thread for every delivery report (producers only).
    var onDelivery: ((UnsafePointer<rd_kafka_message_t>) -> Void)?

    init(logger: Logger) {
        self.logger = logger
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> RDKafkaContext? {
        opaque.map { Unmanaged<RDKafkaContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// Owns one `rd_kafka_t` and its context.
///
/// - Important: `destroy()` must be called exactly once, from the thread that owns the
///   handle (its poll thread), after which the pointer is invalid.
final class RDKafkaHandle: @unchecked Sendable {
    // @unchecked Sendable: `pointer` is immutable and librdkafka's API is thread-safe for the
    // calls made from other threads (produce, queue_yield, opaque); the calls STYLE.md reserves
    // for the poll thread are made only there (see KafkaConsumer/KafkaProducer).
    let pointer: OpaquePointer
    let context: RDKafkaContext
    private let contextRef: Unmanaged<RDKafkaContext>

    init(type: rd_kafka_type_t, config: RDKafkaConfig, context: RDKafkaContext) throws(KafkaError) {
        guard let conf = config.pointer else {
            throw KafkaError(code: .other, detail: "configuration already used")
        }
        let ref = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, ref.toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdkafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, rdkafkaErrorCallback)
        rd_kafka_conf_set_stats_cb(conf, rdkafkaStatsCallback)
        if context.onRebalance != nil { rd_kafka_conf_set_rebalance_cb(conf, rdkafkaRebalanceCallback) }
        if context.onDelivery != nil { rd_kafka_conf_set_dr_msg_cb(conf, rdkafkaDeliveryCallback) }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            ref.release()
            throw KafkaError(code: .configuration, detail: String(cChars: errstr),
                             problems: [SettingsProblem(key: "(client)", message: String(cChars: errstr))])
        }
        _ = config.take() // rd_kafka_new owns it now
        self.pointer = rk
        self.context = context
        self.contextRef = ref
    }

    /// The client instance name librdkafka chose (`vigil#consumer-1`).
    var name: String { String(cString: rd_kafka_name(pointer)) }

    /// The fatal error librdkafka recorded, if any.
    func recordedFatalError() -> KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(pointer, &errstr, errstr.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(err, detail: String(cChars: errstr), fatal: true)
    }

    func destroy() {
        rd_kafka_destroy(pointer)
        contextRef.release()
    }
}

// MARK: - C callbacks (exact C signatures; context through the handle's opaque)

private func rdkafkaLogCallback(_ rk: OpaquePointer?, _ level: Int32, _ fac: UnsafePointer<CChar>?,
                                _ buf: UnsafePointer<CChar>?) {
    guard let rk, let context = RDKafkaContext.from(rd_kafka_opaque(rk)) else { return }
    let facility = fac.map { String(cString: $0) } ?? ""
    let message = buf.map { String(cString: $0) } ?? ""
    let logLevel: Logger.Level
    switch level {
    case ...2: logLevel = .critical
    case 3: logLevel = .error
    case 4: logLevel = .warning
    case 5: logLevel = .notice
    case 6: logLevel = .info
    default: logLevel = .debug
    }
    context.logger.log(level: logLevel, "\(message)", metadata: ["rdkafka.facility": "\(facility)"],
                       source: "librdkafka")
}

private func rdkafkaErrorCallback(_ rk: OpaquePointer?, _ err: Int32, _ reason: UnsafePointer<CChar>?,
                                  _ opaque: UnsafeMutableRawPointer?) {
    guard let context = RDKafkaContext.from(opaque) else { return }
    let code = rd_kafka_resp_err_t(rawValue: err)
    var error = KafkaError(code, detail: reason.map { String(cString: $0) })
    if code == RD_KAFKA_RESP_ERR__FATAL, let rk {
        var errstr = [CChar](repeating: 0, count: 512)
        let underlying = rd_kafka_fatal_error(rk, &errstr, errstr.count)
        error = KafkaError(underlying, detail: String(cChars: errstr), fatal: true)
    }
    let level: Logger.Level = error.isFatal ? .critical : (code == RD_KAFKA_RESP_ERR__TRANSPORT ? .warning : .error)
    context.logger.log(level: level, "librdkafka error", metadata: ["error": "\(error)"])
    context.onError?(error)
}

private func rdkafkaStatsCallback(_ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ len: Int,
                                  _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let context = RDKafkaContext.from(opaque), let json, let handler = context.onStatistics else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: json, count: len), as: UTF8.self)
    if let stats = KafkaStatistics(json: text) { handler(stats) }
    return 0 // librdkafka frees the JSON
}

private func rdkafkaRebalanceCallback(_ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t,
                                      _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
                                      _ opaque: UnsafeMutableRawPointer?) {
    guard let context = RDKafkaContext.from(opaque), let partitions, let handler = context.onRebalance else {
        if let rk { _ = rd_kafka_assign(rk, nil) }
        return
    }
    handler(err, partitions)
}

private func rdkafkaDeliveryCallback(_ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?,
                                     _ opaque: UnsafeMutableRawPointer?) {
    guard let context = RDKafkaContext.from(opaque), let message else { return }
    context.onDelivery?(message)
}
