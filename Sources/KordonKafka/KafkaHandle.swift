import CRdKafka
import Logging
import Synchronization

/// State shared between a client and the C callbacks librdkafka calls for it.
/// Set as the `opaque` of the handle and kept alive until `rd_kafka_destroy` returns.
class HandleCallbacks: @unchecked Sendable {
    let logger: Logger
    /// The latest statistics JSON (`statistics.interval.ms`), written from librdkafka's threads.
    let statistics = Mutex<String?>(nil)
    let fatalErrorSeen = Atomic<Bool>(false)

    init(logger: Logger) { self.logger = logger }

    static func from(_ rk: OpaquePointer?) -> HandleCallbacks? {
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<HandleCallbacks>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// An `rd_kafka_t` with its callbacks; destroys the handle when released.
final class KafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    private let callbacks: Unmanaged<HandleCallbacks>

    /// `configure` may install further callbacks on the native conf before the handle is created.
    init(
        type: rd_kafka_type_t, config: KafkaConfig, callbacks: HandleCallbacks,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) {
        let conf = try config.makeNative()
        let retained = Unmanaged.passRetained(callbacks)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_log_cb(conf, logCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        rd_kafka_conf_set_stats_cb(conf, statsCallback)
        configure(conf)
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            retained.release()
            let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(code: .invalidArgument, message: "cannot create kafka client: \(reason)")
        }
        pointer = rk
        self.callbacks = retained
    }

    var name: String { String(cString: rd_kafka_name(pointer)) }

    /// The fatal error of an idempotent producer (or a consumer with static membership), if one occurred.
    var fatalError: KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(pointer, &errstr, errstr.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return KafkaError(code: KafkaErrorCode(err), message: "fatal: \(reason)")
    }

    deinit {
        rd_kafka_destroy(pointer)
        callbacks.release()
    }
}

private func logCallback(rk: OpaquePointer?, level: Int32, facility: UnsafePointer<CChar>?, text: UnsafePointer<CChar>?) {
    guard let callbacks = HandleCallbacks.from(rk), let text else { return }
    // syslog levels: 0 emerg … 7 debug
    let swiftLevel: Logger.Level =
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    callbacks.logger.log(
        level: swiftLevel, "\(String(cString: text))",
        metadata: ["rdkafka.facility": .string(facility.map { String(cString: $0) } ?? "")])
}

private func errorCallback(rk: OpaquePointer?, err: Int32, reason: UnsafePointer<CChar>?, opaque: UnsafeMutableRawPointer?) {
    guard let callbacks = HandleCallbacks.from(rk) else { return }
    let code = KafkaErrorCode(rawValue: err)
    let text = reason.map { String(cString: $0) } ?? code.description
    if code == .fatal {
        callbacks.fatalErrorSeen.store(true, ordering: .releasing)
        callbacks.logger.critical("kafka fatal error: \(text)")
    } else {
        // Most client errors (broker down, all brokers down) are transient: librdkafka retries them.
        callbacks.logger.warning("kafka: \(text)", metadata: ["rdkafka.error": .string(code.name)])
    }
}

private func statsCallback(
    rk: OpaquePointer?, json: UnsafeMutablePointer<CChar>?, length: Int, opaque: UnsafeMutableRawPointer?
) -> Int32 {
    guard let callbacks = HandleCallbacks.from(rk), let json else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: json, count: length), as: UTF8.self)
    callbacks.statistics.withLock { $0 = text }
    return 0  // librdkafka frees the JSON
}

/// Milliseconds for librdkafka timeouts, clamped to what an `Int32` holds.
func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    return Int32(clamping: max(ms, 0))
}
