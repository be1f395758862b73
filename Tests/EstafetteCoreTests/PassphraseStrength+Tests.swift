import Testing

@testable import EstafetteCore

@Suite("PassphraseStrength")
struct PassphraseStrengthTests {
    @Test(
        "weak passphrases are refused, with advice",
        arguments: [
            "password", "password12345", "hunter2hunter2", "Tr0ub4dor&3", "squat wifi 2026", "qwertyuiopasdf",
            "aaaaaaaaaaaaaaaaaaaaaaaa", "0123456789012345", "letmein letmein letmein", "kq8#Lm2!vR",
        ])
    func weak(passphrase: String) throws {
        let reason = try #require(PassphraseStrength.weakness(passphrase), "accepted: \(passphrase)")
        #expect(reason.contains("four or more unrelated words"))
    }

    @Test(
        "four unrelated words, or a long random string, pass",
        arguments: [
            "correct horse battery staple", "plum tractor eleven violet", "asamblea del barrio norte verde",
            "x7$Kq9!mZ2#pL4@w", "0f9e3c7a51b2d84e6c1a0b9f",
        ])
    func strong(passphrase: String) {
        #expect(PassphraseStrength.weakness(passphrase) == nil, "\(PassphraseStrength.bits(passphrase)) bits")
    }

    @Test("a repeated word adds almost nothing")
    func repeats() {
        #expect(PassphraseStrength.bits("violet violet violet violet") < PassphraseStrength.bits("violet tractor"))
    }
}
