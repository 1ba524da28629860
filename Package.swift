// swift-tools-version:6.1
import PackageDescription

// The executables allocate through jemalloc (Debian libjemalloc-dev) rather than glibc's malloc: the
// engine ran 10 % faster, and the whole process of the pipeline benchmark peaked at half the memory
// (glibc's per-thread arenas fragment in a long-running, many-threaded process).
let jemalloc: [LinkerSetting] = [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]

let package = Package(
    name: "Kordon",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kordon", targets: ["kordon"]),
        .executable(name: "kordon-bench", targets: ["kordon-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The system librdkafka (Debian librdkafka-dev 2.0.2), consumer, producer, admin and mock cluster headers.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Swift binding over librdkafka: consumer, producer, admin, mock cluster.
        .target(
            name: "KordonKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Event contract v1: typed events, byte-level decoder and validation.
        .target(name: "KordonEvents"),
        // Detection: rules as data (YAML rulebook, geography), event-time windows, alerts.
        .target(
            name: "KordonEngine",
            dependencies: [
                "KordonEvents",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Realistic traffic with planted incidents and ground truth; detection scoring.
        .target(name: "KordonSimulator", dependencies: ["KordonEvents", "KordonEngine"]),
        // Simulated traffic onto the input topics, as an upstream producer sends it.
        .target(
            name: "KordonFeed",
            dependencies: ["KordonEvents", "KordonKafka", .product(name: "Logging", package: "swift-log")]
        ),
        // From Kafka to Kafka: consume, decode, detect, publish alerts and dead letters, checkpoint, commit.
        .target(
            name: "KordonPipeline",
            dependencies: [
                "KordonKafka",
                "KordonEvents",
                "KordonEngine",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The system zlib, for alert logs logrotate has compressed.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Operator tools over the alert log: tail and stats.
        .target(name: "KordonOperations", dependencies: ["KordonEngine", "KordonEvents", "CZlib"]),
        // Running as a service: the systemd notify protocol.
        .target(name: "KordonService"),
        // The daemon and operator CLI.
        .executableTarget(
            name: "kordon",
            dependencies: [
                "KordonKafka",
                "KordonEvents",
                "KordonPipeline",
                "KordonEngine",
                "KordonSimulator",
                "KordonFeed",
                "KordonOperations",
                "KordonService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            linkerSettings: jemalloc
        ),
        // Plain C loops over librdkafka: the reference the benchmarks compare against.
        .target(name: "CKafkaBench", dependencies: ["CRdKafka"]),
        .executableTarget(
            name: "kordon-bench",
            dependencies: [
                "KordonKafka",
                "KordonPipeline",
                "KordonEvents",
                "KordonEngine",
                "KordonSimulator",
                "KordonFeed",
                "CKafkaBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Measured as the daemon runs.
            linkerSettings: jemalloc
        ),
        // Shared by the test targets: the serialized Kafka suite, brokers and processes on loopback.
        .target(
            name: "KordonTestSupport",
            dependencies: ["KordonKafka", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "KordonKafkaTests", dependencies: ["KordonKafka", "CRdKafka", "KordonTestSupport"]),
        .testTarget(
            name: "KordonPipelineTests",
            dependencies: ["KordonPipeline", "KordonKafka", "KordonEvents", "KordonEngine", "KordonTestSupport"]
        ),
        // The real daemon binary end to end on loopback: crashes, broker faults, signals.
        .testTarget(
            name: "KordonDaemonTests",
            dependencies: ["KordonKafka", "KordonEngine", "KordonEvents", "KordonSimulator", "KordonTestSupport"]
        ),
        .testTarget(name: "KordonEngineTests", dependencies: ["KordonEngine", "KordonEvents"]),
        .testTarget(name: "KordonServiceTests", dependencies: ["KordonService", "KordonTestSupport"]),
        .testTarget(name: "KordonOperationsTests", dependencies: ["KordonOperations", "KordonEngine"]),
        .testTarget(name: "KordonSimulatorTests", dependencies: ["KordonSimulator", "KordonEngine", "KordonEvents"]),
        .testTarget(
            name: "KordonEventsTests",
            dependencies: [
                "KordonEvents",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ]
)
