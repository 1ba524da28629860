import CRdKafka

/// librdkafka configuration properties, passed through as they are
/// (`bootstrap.servers`, `security.protocol`, `sasl.*`, `ssl.*`, timeouts, …).
/// See librdkafka's CONFIGURATION.md for the names.
public struct KafkaConfig: Sendable, ExpressibleByDictionaryLiteral {
    public var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public subscript(name: String) -> String? {
        get { properties[name] }
        set { properties[name] = newValue }
    }

    /// A copy with `defaults` filled in where this config does not set the property.
    public func withDefaults(_ defaults: [String: String]) -> KafkaConfig {
        KafkaConfig(properties.merging(defaults) { own, _ in own })
    }

    /// Property names whose values must never appear in logs or error messages.
    static func isSecret(_ name: String) -> Bool {
        name.contains("password") || name.contains("secret") || name.hasSuffix(".key.pem")
            || name == "sasl.oauthbearer.config"
    }

    /// A new `rd_kafka_conf_t`; the caller owns it until `rd_kafka_new` takes it.
    func makeNative() throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errstr = [CChar](repeating: 0, count: 512)
        // Sorted so the first bad property reported is the same on every run.
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let shown = Self.isSecret(name) ? "(secret)" : "\"\(value)\""
                let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(
                    code: .invalidArgument,
                    message: "kafka property \(name) = \(shown): \(Self.isSecret(name) ? "invalid value" : reason)")
            }
        }
        return conf
    }
}
