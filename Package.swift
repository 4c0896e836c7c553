// swift-tools-version: 6.1
// Vigil: a Kafka stream processor that turns Kubernetes audit logs into alerts.
// Modules follow the data, one concern and at most one C library each
// (../shared/STYLE.md); dependencies point one way.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .executable(name: "vigil-bench", targets: ["vigil-bench"]),
        .library(name: "KafkaIO", targets: ["KafkaIO"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: C libraries (pkg-config; ops/setup.sh installs them)
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka",
                       providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CMaxMindDB", pkgConfig: "libmaxminddb",
                       providers: [.apt(["libmaxminddb-dev"])]),

        // MARK: Kafka I/O: the only module that imports CRdKafka
        .target(name: "KafkaIO",
                dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")],
                exclude: ["README.md"],
                swiftSettings: strict),
        // For tests: fault injection over librdkafka's mock cluster, and the real test broker
        // (ops/broker.sh) with settings tuned for it, shared by KafkaIOTests and RuntimeTests.
        .target(name: "KafkaIOTesting",
                dependencies: ["KafkaIO", "CRdKafka", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),

        // MARK: Enrichment: the only module that imports CMaxMindDB (GeoIP, Tor exit set, IP class)
        .target(name: "Enrichment",
                dependencies: [
                    "CMaxMindDB",
                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Metrics", package: "swift-metrics"),
                ],
                swiftSettings: strict),

        // MARK: Audit events: the normalized event and its decoders (pure, no I/O).
        // CSimdJSON is a small C API over simdjson (libsimdjson-dev), the only C++ here.
        .target(name: "CSimdJSON",
                cxxSettings: [.define("SIMDJSON_THREADS_ENABLED", to: "1")],
                linkerSettings: [.linkedLibrary("simdjson")]),
        .target(name: "AuditEvents",
                dependencies: ["CSimdJSON"],
                swiftSettings: strict),

        // MARK: LoadGen: realistic multi-cloud audit traffic with attacks inside (pure, no I/O),
        // for `vigil loadgen` (the demo, the end-to-end benchmark) and `vigil bench`
        .target(name: "LoadGen",
                dependencies: ["AuditEvents"],
                swiftSettings: strict),

        // MARK: Detection: the condition language (EQL subset), compiled once per rule
        .target(name: "Detection",
                dependencies: ["AuditEvents", "Enrichment", .product(name: "Yams", package: "Yams")],
                exclude: ["README.md"],
                swiftSettings: strict),

        // MARK: Runtime: the topology file and the streaming stages (ingest; detect to come)
        .target(name: "Runtime",
                dependencies: [
                    "KafkaIO", "AuditEvents", "Enrichment", "Detection",
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "Yams", package: "Yams"),
                ],
                exclude: ["README.md"],
                swiftSettings: strict),

        // MARK: Observability: the HTTP listener (/metrics, /health, /ready), the Prometheus
        // registry behind swift-metrics and JSON log lines. Knows nothing of the stages: it is
        // handed probes, so Runtime does not depend on it (the executable wires both).
        .target(name: "Observability",
                dependencies: [
                    .product(name: "NIOCore", package: "swift-nio"),
                    .product(name: "NIOPosix", package: "swift-nio"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                    .product(name: "Logging", package: "swift-log"),
                    .product(name: "Metrics", package: "swift-metrics"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                ],
                exclude: ["README.md"],
                swiftSettings: strict),

        // MARK: The executable
        .executableTarget(name: "vigil",
                          dependencies: [
                              "AuditEvents",
                              "KafkaIO", "Enrichment", "Detection", "Runtime", "LoadGen", "Observability",
                              .product(name: "ArgumentParser", package: "swift-argument-parser"),
                              .product(name: "Logging", package: "swift-log"),
                              .product(name: "Metrics", package: "swift-metrics"),
                              .product(name: "Prometheus", package: "swift-prometheus"),
                              .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                          ],
                          swiftSettings: strict),

        // MARK: Benchmarks (release builds; numbers recorded under ops/bench/)
        .executableTarget(name: "vigil-bench",
                          dependencies: [
                              "AuditEvents", "LoadGen",
                              "KafkaIO", "Enrichment", "Detection", "Runtime",
                              .product(name: "ArgumentParser", package: "swift-argument-parser"),
                              .product(name: "Logging", package: "swift-log"),
                          ],
                          swiftSettings: strict),

        // MARK: Fuzzing: the parsers of outside input under libFuzzer (ops/fuzz/run.sh); the
        // normal build replays saved inputs (`vigil-fuzz TARGET FILE...`).
        .executableTarget(name: "vigil-fuzz",
                          dependencies: ["AuditEvents", "Detection", "Enrichment", "KafkaIO", "Runtime"],
                          swiftSettings: strict),

        // MARK: Tests
        .testTarget(name: "AuditEventsTests",
                    dependencies: ["AuditEvents", "CSimdJSON"],
                    exclude: ["Fixtures"],
                    swiftSettings: strict),
        .testTarget(name: "EnrichmentTests",
                    dependencies: ["Enrichment"],
                    exclude: ["Fixtures"],
                    swiftSettings: strict),
        .testTarget(name: "DetectionTests",
                    dependencies: ["Detection", "AuditEvents"],
                    exclude: ["Fixtures"],
                    swiftSettings: strict),
        .testTarget(name: "VigilCLITests",
                    dependencies: ["KafkaIO", "KafkaIOTesting"],
                    swiftSettings: strict),
        .testTarget(name: "RuntimeTests",
                    dependencies: ["Runtime", "KafkaIO", "KafkaIOTesting", "AuditEvents", "Enrichment", "Observability",
                                   "LoadGen"],
                    exclude: ["Fixtures"],
                    swiftSettings: strict),
        .testTarget(name: "ObservabilityTests",
                    dependencies: ["Observability", .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        .testTarget(name: "KafkaIOTests",
                    dependencies: ["KafkaIO", "KafkaIOTesting"],
                    swiftSettings: strict),
        // `vigil run` as processes against the real broker (needs the built `vigil` beside the tests).
        .testTarget(name: "IntegrationTests",
                    dependencies: ["KafkaIO", "KafkaIOTesting"],
                    swiftSettings: strict),
    ]
)
