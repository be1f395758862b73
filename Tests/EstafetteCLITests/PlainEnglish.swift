import Testing

@testable import estafette

/// Runs a test (or every test of a suite) in English without colour, whatever the language and terminal of the
/// person running the tests: output snapshots then mean the same everywhere.
struct PlainEnglish: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await Catalog.$current.withValue(.english) {
            try await Style.$out.withValue(.plain) {
                try await Style.$err.withValue(.plain) { try await function() }
            }
        }
    }
}

extension Trait where Self == PlainEnglish {
    static var plainEnglish: Self { PlainEnglish() }
}
