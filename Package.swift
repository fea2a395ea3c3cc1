// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // An import is internal unless it says otherwise, so a module's public face names what it exposes.
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// `SMOKETRACE_FUZZ=1` (set by `scripts/fuzz`) builds SmokeTrace's own modules with libFuzzer's
/// coverage instrumentation and `smoketrace-fuzz` with libFuzzer itself; the dependencies are
/// built as always, so a fuzz build after a test build recompiles only this package's modules.
let fuzzing = Context.environment["SMOKETRACE_FUZZ"] == "1"
let librarySettings = strictSettings + (fuzzing ? [.unsafeFlags(["-sanitize=fuzzer"])] : [])

let package = Package(
    name: "SmokeTrace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stserver", targets: ["stserver"]),
        .library(name: "PathTSDB", targets: ["PathTSDB"]),
        .library(name: "Probe", targets: ["Probe"]),
        .library(name: "Query", targets: ["Query"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The HTTP API; its default traits (swift-configuration, full Foundation) are not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Webhook and Alertmanager delivery.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // FilePath, for the program receiver's swift-subprocess call.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // The runtime of the API's request and response types, generated from openapi.yaml.
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        // The HTTPTypes request and response parts the request-head guard handles in the pipeline.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // HMAC-SHA256 for the web forms' CSRF tokens.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // zstd and LZ4 come from Debian's libzstd-dev and liblz4-dev (scripts/setup installs them).
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", providers: [.apt(["liblz4-dev"])]),
        // setns(2) for the native prober, which Glibc declares only under _GNU_SOURCE.
        .target(name: "CProbeShims"),
        // CRC-32C with the CPU's instruction, which Swift cannot name.
        .target(name: "CChecksum"),
        .target(
            name: "PathTSDB",
            dependencies: [
                "CZstd", "CLZ4", "CChecksum",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: librarySettings
        ),
        .target(
            name: "Probe",
            dependencies: [
                "PathTSDB", "CProbeShims",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: librarySettings
        ),
        .target(
            name: "Query",
            dependencies: ["PathTSDB"],
            swiftSettings: librarySettings
        ),
        .target(
            name: "Alerting",
            dependencies: [
                "PathTSDB", "Query",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: librarySettings
        ),
        .executableTarget(
            name: "stserver",
            dependencies: [
                "PathTSDB", "Probe", "Query", "Alerting", "WebUI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            // The API's description, served as written and checked against the routes by the tests.
            resources: [.embedInCode("HTTP/openapi.yaml")],
            swiftSettings: strictSettings
        ),
        // Pages, templates and SVG charts, independent of the HTTP server that mounts them.
        .target(
            name: "WebUI",
            dependencies: ["PathTSDB", "Query", "Alerting", .product(name: "Mustache", package: "swift-mustache")],
            resources: ["layout", "target", "targets", "error", "diff", "alerts", "login", "console", "report"].map { .embedInCode("Templates/\($0).mustache") },
            swiftSettings: strictSettings
        ),
        // Every reader of outside bytes as a function of bytes (Fuzz/README.md): run under
        // libFuzzer by scripts/fuzz, replayed from the committed corpora by FuzzTests.
        .target(name: "FuzzTargets", dependencies: ["PathTSDB", "Probe", "Query", "Alerting"], path: "Fuzz/Targets",
                swiftSettings: librarySettings),
        .executableTarget(
            name: "smoketrace-fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/Driver",
            swiftSettings: strictSettings + (fuzzing ? [.define("SMOKETRACE_LIBFUZZER"), .unsafeFlags(["-sanitize=fuzzer"])] : []),
            // lld: gold fails on the entry point SwiftPM renames when libFuzzer brings a main of its own.
            linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer", "-use-ld=lld"])] : []
        ),
        .testTarget(
            name: "PathTSDBTests",
            dependencies: ["PathTSDB"],
            exclude: ["Fixtures"],  // stores written by earlier format versions, read by FormatFixtureTests
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ProbeTests",
            // Query, to read what the lab's traces say (loss, silent hops) as an operator would.
            // Alerting, to prove the alert rules with real packets through the lab.
            dependencies: ["Probe", "PathTSDB", "Query", "Alerting"],
            // Tracer outputs recorded in a namespace lab (Fixtures/README.md), and the C source of
            // the lab's delaying link, which the tests compile themselves.
            exclude: ["Fixtures", "Lab/nfq_delay.c"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AlertingTests",
            dependencies: [
                "Alerting", "PathTSDB", "Query",
                // A real HTTP receiver on loopback for webhook and Alertmanager-shaped deliveries.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "WebUITests", dependencies: ["WebUI", "PathTSDB", "Query", "Alerting"], swiftSettings: strictSettings),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets"], swiftSettings: strictSettings),
        .testTarget(name: "QueryTests", dependencies: ["Query", "PathTSDB"], swiftSettings: strictSettings),
        .testTarget(
            name: "EndToEndTests",
            // HummingbirdTesting: routes are also called in process, where a socket adds nothing.
            dependencies: ["PathTSDB", "Alerting", "stserver", "Probe", .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: strictSettings
        ),
    ]
)
