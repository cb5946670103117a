// swift-tools-version:6.1
// Micro-benchmarks (ordo-one/benchmark). A package of its own so that the project's CI build and
// tests never compile them: run with `cd Benchmarks && swift package benchmark`.
import PackageDescription

let package = Package(
    name: "ChannelGuardBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ChannelGuard", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        .executableTarget(
            name: "Decode",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ChannelGuardCodes", package: "ChannelGuard"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/Decode",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Index",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ChannelGuardIndex", package: "ChannelGuard"),
            ],
            path: "Benchmarks/Index",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Pipeline",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ChannelGuardIngest", package: "ChannelGuard"),
            ],
            path: "Benchmarks/Pipeline",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
