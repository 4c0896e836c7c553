import AuditEvents
import Testing

/// Random mutations of every real sample, through every decoder: no crash,
/// at least one outcome per record, and every outcome well-formed.
@Suite struct MutationFuzzTests {
    /// SplitMix64: deterministic, so a failure names a reproducible seed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let structural: [UInt8] = Array(#"{}[]",:\0-.eE"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xFF]

    static func mutate(_ input: [UInt8], _ rng: inout Generator) -> [UInt8] {
        var b = input
        let rounds = Int.random(in: 1...4, using: &rng)
        for _ in 0..<rounds {
            guard !b.isEmpty else { break }
            let i = Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<9, using: &rng) {
            case 0: b[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: b[i] = UInt8.random(in: 0...255, using: &rng)
            case 2: b[i] = structural.randomElement(using: &rng) ?? 0
            case 3: b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...64, using: &rng)))
            case 4: b = Array(b.prefix(i))
            case 5:
                let end = min(b.count, i + Int.random(in: 1...128, using: &rng))
                b.insert(contentsOf: b[i..<end], at: Int.random(in: 0...b.count, using: &rng))
            case 6: b.insert(structural.randomElement(using: &rng) ?? 0, at: i)
            case 7:  // a number where a string was, or the reverse
                if b[i] == UInt8(ascii: "\"") { b[i] = UInt8(ascii: "7") } else { b.insert(UInt8(ascii: "\""), at: i) }
            default:  // deep nesting
                let depth = Int.random(in: 1...400, using: &rng)
                b.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "["), count: depth), at: i)
            }
        }
        return b
    }

    static var samples: [[UInt8]] {
        ["eks", "aks", "gke", "raw-k8s", "process"]
            .flatMap { Fixtures.files(in: $0, suffix: ".jsonl") }
            .flatMap { Fixtures.lines($0) }
    }

    @Test func mutatedSamplesAlwaysYieldWellFormedOutcomes() throws {
        let samples = Self.samples
        #expect(samples.count > 300)
        let decoders = try SourceFormat.allCases.map {
            try AuditRecordDecoder(format: $0, options: DecoderOptions(maxRecordBytes: 64 * 1024, maxDepth: 64))
        }
        var rng = Generator(state: 0x5EED_0003)
        var counts: [String: Int] = [:]
        for (n, sample) in samples.enumerated() {
            for k in 0..<30 {
                let record = Self.mutate(sample, &rng)
                for decoder in decoders {
                    let outcomes = decoder.decode(record)
                    #expect(!outcomes.isEmpty, "sample \(n) mutation \(k) format \(decoder.format)")
                    for outcome in outcomes {
                        counts[outcome.label, default: 0] += 1
                        switch outcome {
                        case .decoded(let event):
                            let line = event.jsonLine()
                            #expect(RawJSON(line).document != nil, "unparsable output: \(line)")
                        case .skipped(let issue), .deadLetter(let issue):
                            #expect(!issue.detail.isEmpty)
                            #expect(issue.reason.isSkip == (outcome.label == "skipped"))
                        }
                    }
                }
            }
        }
        // The mutations must exercise every kind of outcome.
        #expect(counts["decoded", default: 0] > 1000)
        #expect(counts["dead_letter", default: 0] > 1000)
        #expect(counts["skipped", default: 0] > 0)
    }

    /// A record parsed where it lies (its array has spare capacity, here full
    /// of JSON's own structural bytes) decodes exactly as one parsed from a
    /// copy: simdjson may read the padding, and what is there must not matter.
    @Test func recordsParsedInPlaceDecodeAsCopiedOnesDo() throws {
        let decoder = try AuditRecordDecoder(options: DecoderOptions(maxRecordBytes: 64 * 1024, maxDepth: 64))
        var rng = Generator(state: 0x5EED_0004)
        var inPlace = 0
        func describe(_ outcomes: [DecodeOutcome]) -> [String] {
            outcomes.map { outcome in
                switch outcome {
                case .decoded(let event): "decoded " + event.jsonLine()
                case .skipped(let issue), .deadLetter(let issue): "\(outcome.label) \(issue.reason) \(issue.detail)"
                }
            }
        }
        for (n, sample) in Self.samples.enumerated() {
            for k in 0..<10 {
                let record = k == 0 ? sample : Self.mutate(sample, &rng)
                let tight = [UInt8](unsafeUninitializedCapacity: record.count) { buffer, count in
                    count = buffer.initialize(fromContentsOf: record)
                }
                let roomy = [UInt8](unsafeUninitializedCapacity: record.count + AuditRecordDecoder.recordPadding) {
                    buffer, count in
                    for i in buffer.indices { buffer[i] = Self.structural[i % Self.structural.count] }
                    count = UnsafeMutableBufferPointer(rebasing: buffer[..<record.count]).update(fromContentsOf: record)
                }
                guard tight.capacity - tight.count < AuditRecordDecoder.recordPadding else { continue }
                inPlace += 1
                #expect(describe(decoder.decode(roomy)) == describe(decoder.decode(tight)), "sample \(n) mutation \(k)")
            }
        }
        #expect(inPlace > 3000)
        let padded = AuditRecordDecoder.padded(Self.samples[0])
        #expect(padded == Self.samples[0])
        #expect(padded.capacity - padded.count >= AuditRecordDecoder.recordPadding)
    }

    @Test func randomBytesNeverCrash() throws {
        let decoder = try AuditRecordDecoder()
        var rng = Generator(state: 42)
        for _ in 0..<5000 {
            let n = Int.random(in: 0...256, using: &rng)
            let bytes = (0..<n).map { _ in Self.structural.randomElement(using: &rng) ?? 0 }
            #expect(!decoder.decode(bytes).isEmpty)
        }
    }
}
