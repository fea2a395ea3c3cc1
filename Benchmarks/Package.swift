// swift-tools-version: 6.1
// PathTSDB's benchmarks, a package of their own so the main build never compiles
// package-benchmark. Run from this directory: `swift package benchmark` (see README.md).
import PackageDescription

let package = Package(
    name: "SmokeTraceBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so the checkout folder's name does not matter.
        .package(name: "SmokeTrace", path: "../"),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PathTSDBBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "PathTSDB", package: "SmokeTrace"),
                .product(name: "Probe", package: "SmokeTrace"),
            ],
            path: "PathTSDBBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    ]
)
