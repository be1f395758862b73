// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "Estafette",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "estafetted", targets: ["estafetted"]),
        .executable(name: "estafette", targets: ["estafette"]),
        .library(name: "EstafetteCore", targets: ["EstafetteCore"]),
        // For the fuzz targets in Fuzz/ (a separate package built with -sanitize=fuzzer): the config and
        // request-line parsers live here.
        .library(name: "EstafetteAPI", targets: ["EstafetteAPI"]),
        .library(name: "EstafetteNode", targets: ["EstafetteNode"]),
        .executable(name: "estafette-sim", targets: ["estafette-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // Debian's libqrencode, for the CLI's invite QR code (`estafette invite`).
        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // Pure protocol core: no sockets, no clock, no disk.
        .target(
            name: "EstafetteCore",
            dependencies: [
                "CSodium",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The JSON-RPC contract shared by the daemon and the CLI, plus a small client.
        .target(
            name: "EstafetteAPI",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ],
            swiftSettings: swiftSettings
        ),
        // The I/O shell: transports, API server, SQLite store, config.
        .target(
            name: "EstafetteNode",
            dependencies: [
                "EstafetteCore",
                "EstafetteAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "estafetted",
            dependencies: [
                "EstafetteNode",
                "EstafetteCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "estafette",
            dependencies: [
                "EstafetteAPI",
                "CQRencode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support shared by the integration tests and the benchmarks: the one way to start, reach and stop a
        // real `estafetted` (temp dirs, random group and port, deadlines, SIGTERM then SIGKILL, parent-death
        // signal). Never imported by product code; depends on nothing of the project, and not on swift-testing.
        .target(
            name: "EstafetteTestKit",
            path: "Tests/EstafetteTestKit",
            swiftSettings: swiftSettings
        ),
        // Benchmarks: an executable that prints its figures (docs/benchmarks.md, scripts/bench.sh). Daemons are
        // started through EstafetteTestKit.
        .executableTarget(
            name: "estafette-bench",
            dependencies: [
                "EstafetteCore",
                "EstafetteTestKit",
                "CSodium",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // relay-scale writes a week of envelopes straight into a relay's database.
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Benchmarks/estafette-bench",
            swiftSettings: swiftSettings
        ),
        // Negentropy conformance harness: the reference suite's line protocol on stdin/stdout (docs/negentropy.md).
        .executableTarget(
            name: "negentropy-harness",
            dependencies: ["EstafetteCore"],
            swiftSettings: swiftSettings
        ),
        // Deterministic network simulator: many MeshNodes on a virtual clock and a seeded lossy network.
        .target(
            name: "EstafetteSim",
            dependencies: ["EstafetteCore"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "estafette-sim",
            dependencies: [
                "EstafetteSim",
                "EstafetteCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EstafetteSimTests",
            dependencies: ["EstafetteSim", "EstafetteCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EstafetteCoreTests",
            dependencies: ["EstafetteCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EstafetteCLITests",
            dependencies: [
                "estafette", "EstafetteAPI", "EstafetteTestKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The shell in process, no sockets and no daemon: config parsing, the SQLite store and the API dispatcher,
        // each against real files in a scratch directory (EstafetteTestKit's, removed afterwards).
        .testTarget(
            name: "EstafetteNodeTests",
            dependencies: [
                "EstafetteNode", "EstafetteCore", "EstafetteAPI", "EstafetteSim", "EstafetteTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Real daemons on real sockets (loopback multicast, network namespaces), started through EstafetteTestKit.
        // Only what needs a process belongs here; everything else is tested in process.
        .testTarget(
            name: "EstafetteIntegrationTests",
            // estafetted and estafette are not imported: they are the binaries the tests run.
            dependencies: [
                "EstafetteAPI", "EstafetteTestKit", "estafetted", "estafette",
                // For the raw bytes of an ID (the seized-device tests search the data directory for them).
                "EstafetteCore",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
