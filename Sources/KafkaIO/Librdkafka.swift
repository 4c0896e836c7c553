import CRdKafka

/// The librdkafka version this process runs with (not the one it was built against).
public var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }
