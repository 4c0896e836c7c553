/// Java's `Utils.murmur2` (Kafka's default partitioner), written independently of
/// librdkafka so the test checks librdkafka's murmur2_random against Java's choice.
func javaMurmur2(_ data: [UInt8]) -> Int32 {
    let m: UInt32 = 0x5bd1_e995
    var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: data.count)
    let blocks = data.count / 4
    for i in 0..<blocks {
        let b = i * 4
        var k = UInt32(data[b]) | UInt32(data[b + 1]) << 8 | UInt32(data[b + 2]) << 16 | UInt32(data[b + 3]) << 24
        k = k &* m
        k ^= k >> 24
        k = k &* m
        h = h &* m
        h ^= k
    }
    let tail = blocks * 4
    switch data.count % 4 {
    case 3:
        h ^= UInt32(data[tail + 2]) << 16
        fallthrough
    case 2:
        h ^= UInt32(data[tail + 1]) << 8
        fallthrough
    case 1:
        h ^= UInt32(data[tail])
        h = h &* m
    default:
        break
    }
    h ^= h >> 13
    h = h &* m
    h ^= h >> 15
    return Int32(bitPattern: h)
}

func javaPartition(_ key: [UInt8], partitions: Int32) -> Int32 {
    (javaMurmur2(key) & 0x7fff_ffff) % partitions
}
