// The benchmark's clock, threads, daemon launcher and line client come from the shared test kit (also used by
// the integration tests). Exported here once so that every benchmark file sees them without its own import.
@_exported import EstafetteTestKit
