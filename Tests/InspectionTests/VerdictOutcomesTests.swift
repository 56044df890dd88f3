import Inspection
import Testing

@Suite struct VerdictOutcomesTests {
    @Test func countsFalseCallsEscapesAndWrongCategories() {
        var outcomes = VerdictOutcomes()
        // 10 normal boards: 8 passed, 2 rejected (one to each of two bins).
        outcomes.add(truth: .normal, verdict: .normal, count: 8)
        outcomes.add(truth: .normal, verdict: .discard)
        outcomes.add(truth: .normal, verdict: .solderDefect)
        // 5 defective boards: 2 right, 1 escaped, 2 in the wrong defect bin.
        outcomes.add(truth: .componentDefect, verdict: .componentDefect)
        outcomes.add(truth: .discard, verdict: .discard)
        outcomes.add(truth: .solderDefect, verdict: .normal)
        outcomes.add(truth: .solderDefect, verdict: .discard)
        outcomes.add(truth: .componentDefect, verdict: .solderDefect)
        #expect((outcomes.normalBoards, outcomes.defectiveBoards, outcomes.total) == (10, 5, 15))
        #expect((outcomes.falseCalls, outcomes.escapes, outcomes.wrongCategory, outcomes.correct) == (2, 1, 2, 10))
        #expect(outcomes.falseCallRate == 0.2 && outcomes.escapeRate == 0.2 && outcomes.wrongCategoryRate == 0.4)
        #expect(abs(outcomes.accuracy - 10.0 / 15) < 1e-12)
    }

    @Test func ratesWithoutBoardsOfAKindAreZero() {
        var onlyNormal = VerdictOutcomes()
        onlyNormal.add(truth: .normal, verdict: .normal)
        #expect(onlyNormal.escapeRate == 0 && onlyNormal.falseCallRate == 0 && onlyNormal.accuracy == 1)
        #expect(VerdictOutcomes().accuracy == 0)
    }
}
