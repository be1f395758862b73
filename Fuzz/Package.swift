// swift-tools-version:6.1
// Fuzz targets for Estafette (libFuzzer). Not part of the normal build: a libFuzzer entry point has no `main`
// and links only with `--sanitize fuzzer`. Build and run them with `scripts/fuzz.sh`; see docs/fuzzing.md.
import PackageDescription

// A path dependency is named after its directory, which differs between checkouts.
let root = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "Estafette"

let swiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: "fuzz-\(name)",
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: root) },
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "EstafetteFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "EstafetteCore", package: root)],
            swiftSettings: swiftSettings
        ),
        fuzzTarget("datagram", ["EstafetteCore"]),
        fuzzTarget("envelope", ["EstafetteCore"]),
        fuzzTarget("reassembler", ["EstafetteCore"]),
        fuzzTarget("coded", ["EstafetteCore"]),
        fuzzTarget("mesh-node", ["EstafetteCore"]),
        fuzzTarget("rpc-line", ["EstafetteNode", "EstafetteAPI", "EstafetteCore"]),
        fuzzTarget("config", ["EstafetteNode"]),
        fuzzTarget("bundle", ["EstafetteCore"]),
        fuzzTarget("relay-record", ["EstafetteCore"]),
    ]
)
