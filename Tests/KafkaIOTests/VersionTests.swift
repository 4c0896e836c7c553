import Testing
import KafkaIO

@Test func linksAtLeastLibrdkafka2_1() {
    let parts = librdkafkaVersion.split(separator: ".").compactMap { Int($0) }
    #expect(parts.count >= 2)
    #expect(parts[0] > 2 || (parts[0] == 2 && parts[1] >= 1), "librdkafka \(librdkafkaVersion) is older than 2.1")
}
