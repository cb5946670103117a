// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "ChannelGuard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "channelguard", targets: ["channelguard"]),
        .library(name: "ChannelGuardCodes", targets: ["ChannelGuardCodes"]),
        .library(name: "ChannelGuardTerritory", targets: ["ChannelGuardTerritory"]),
        .library(name: "ChannelGuardDetection", targets: ["ChannelGuardDetection"]),
        .library(name: "ChannelGuardIndex", targets: ["ChannelGuardIndex"]),
        .library(name: "ChannelGuardStore", targets: ["ChannelGuardStore"]),
        .library(name: "ChannelGuardIngest", targets: ["ChannelGuardIngest"]),
        .library(name: "ChannelGuardCommerce", targets: ["ChannelGuardCommerce"]),
        .library(name: "ChannelGuardLoad", targets: ["ChannelGuardLoad"]),
        .library(name: "ChannelGuardReports", targets: ["ChannelGuardReports"]),
        .library(name: "ChannelGuardNotify", targets: ["ChannelGuardNotify"]),
        .library(name: "ChannelGuardHTTP", targets: ["ChannelGuardHTTP"]),
        .library(name: "ChannelGuardApp", targets: ["ChannelGuardApp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        // Codes and wire formats: GS1 decoding, the line and binary protocols, zstd.
        .target(
            name: "ChannelGuardCodes",
            dependencies: ["CZstd", "CLibCrypto"],
            resources: [
                .copy("Resources/gs1-syntax-dictionary.txt"), .copy("Resources/gs1-syntax-dictionary.LICENSE"),
            ],
            swiftSettings: swiftSettings
        ),
        // Small C helpers: cache prefetch, hardware CRC-32C, many datagrams per system call.
        .target(name: "CChannelGuardSupport"),
        // The serial index: an adaptive radix tree of serial → binding, ranges, cartons, snapshots.
        .target(
            name: "ChannelGuardIndex",
            dependencies: ["ChannelGuardCodes", "CChannelGuardSupport"],
            swiftSettings: swiftSettings
        ),
        // Territory: GB/T 2260 region codes, the region catalogue, territories, distances.
        .target(
            name: "ChannelGuardTerritory",
            resources: [.copy("Resources/regions-cn.csv"), .copy("Resources/regions-cn.LICENSE")],
            swiftSettings: swiftSettings
        ),
        // Detection: the scan rules and their verdicts, the reference data they read, alert rules
        // and severities. Pure: no I/O.
        .target(
            name: "ChannelGuardDetection",
            dependencies: ["ChannelGuardTerritory", "ChannelGuardCodes", "ChannelGuardIndex"],
            swiftSettings: swiftSettings
        ),
        // Ingest: listeners, the sharded detection pipeline, batch writers, acknowledgements.
        .target(
            name: "ChannelGuardIngest",
            dependencies: [
                "ChannelGuardCodes", "ChannelGuardIndex", "ChannelGuardStore", "ChannelGuardDetection",
                "ChannelGuardTerritory", "CChannelGuardSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Store: embedded PostgreSQL, migrations and the shared schema, libpq bulk COPY, zstd.
        .target(
            name: "ChannelGuardStore",
            dependencies: [
                "CLibPQ",
                "ChannelGuardTerritory",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        // Commerce: distributors, products, prices, shipments; the demo network.
        .target(
            name: "ChannelGuardCommerce",
            dependencies: [
                "ChannelGuardStore",
                "ChannelGuardTerritory",
                "ChannelGuardCodes",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Load: the gateway simulator (`channelguard loadgen`) and the reference client socket.
        .target(
            name: "ChannelGuardLoad",
            dependencies: [
                "ChannelGuardCodes", "ChannelGuardStore", "ChannelGuardIngest", "CChannelGuardSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // Reports: territory audits (JSON, CSV and a self-contained HTML report with charts).
        .target(
            name: "ChannelGuardReports",
            dependencies: [
                "ChannelGuardStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Notify: webhook deliveries (generic JSON, WeCom, DingTalk, Feishu) with retries.
        .target(
            name: "ChannelGuardNotify",
            dependencies: [
                "ChannelGuardCodes",
                "ChannelGuardDetection",
                "ChannelGuardStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: the Hummingbird application: health, metrics, the /v1 API, the live alert feed.
        .target(
            name: "ChannelGuardHTTP",
            dependencies: [
                "ChannelGuardCodes",
                "ChannelGuardDetection",
                "ChannelGuardStore",
                "ChannelGuardReports",
                "ChannelGuardNotify",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        // The application: command-line interface and buildApplication().
        .target(
            name: "ChannelGuardApp",
            dependencies: [
                "ChannelGuardIndex",
                "ChannelGuardIngest",
                "ChannelGuardLoad",
                "ChannelGuardStore",
                "ChannelGuardCommerce",
                "ChannelGuardHTTP",
                "ChannelGuardNotify",
                "ChannelGuardReports",
                "ChannelGuardTerritory",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "channelguard",
            dependencies: ["ChannelGuardApp"],
            swiftSettings: swiftSettings
        ),

        // Fuzzing harness for the decoders (scripts/fuzz.sh builds it with -sanitize=fuzzer).
        .executableTarget(
            name: "channelguard-fuzz",
            dependencies: ["ChannelGuardCodes", "ChannelGuardIndex"],
            swiftSettings: swiftSettings
        ),

        // Test support: throwaway PostgreSQL cluster and per-suite databases.
        .target(
            name: "ChannelGuardTestSupport",
            dependencies: [
                "ChannelGuardStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChannelGuardTests",
            dependencies: [
                "CChannelGuardSupport",
                "ChannelGuardCodes",
                "ChannelGuardTerritory",
                "ChannelGuardDetection",
                "ChannelGuardStore",
                "ChannelGuardCommerce",
                "ChannelGuardHTTP",
                "ChannelGuardApp",
                "ChannelGuardTestSupport",
                "ChannelGuardIngest",
                "ChannelGuardIndex",
                "ChannelGuardLoad",
                "ChannelGuardNotify",
                "ChannelGuardReports",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
