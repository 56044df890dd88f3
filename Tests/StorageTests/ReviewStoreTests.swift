// Operator reviews and frames kept for labelling, on every engine (the suite of
// InspectionStoreTests: in-memory SQLite, a SQLite file and, under `make test`, MariaDB).

import Foundation
import Inspection
@testable import Storage
import Testing

@Suite struct ReviewStoreTests {
    @Test(arguments: StoreKind.allCases)
    func reviewsAreAppendedAndTheLatestCountsInStatistics(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        let rejected = try await store.saveInspection(newInspection(.discard, at: seoul(hour: 9), image: [0xFF, 0xD8, 0xFF, 0xD9])).record
        let passed = try await store.saveInspection(newInspection(.normal, at: seoul(hour: 10))).record
        let right = try await store.saveInspection(newInspection(.solderDefect, at: seoul(hour: 11), image: [0xFF, 0xD8])).record
        let otherDay = try await store.saveInspection(newInspection(.discard, at: seoul(day: 27), image: [0xFF, 0xD8])).record

        // A good board the machine rejected, first confirmed by mistake, then corrected: both kept.
        let first = try #require(try await store.saveReview(NewReview(subject: .inspection(rejected.id), verdict: .discard, operatorName: "kim"),
                                                            images: [:]))
        #expect(first.confirmsMachine && first.machineCategory == .discard)
        let second = try #require(try await store.saveReview(
            NewReview(subject: .inspection(rejected.id), verdict: .normal, classes: ["short"], note: "dust, not copper", operatorName: "kim"),
            images: [:]))
        #expect(second.isFalseCall && second.id > first.id)
        // A passed frame with a defect: an escape; its picture comes with the review.
        let escape = try #require(try await store.saveReview(NewReview(subject: .inspection(passed.id), verdict: .solderDefect, operatorName: "lee"),
                                                             images: [passed.id: [0xFF, 0xD8, 0x01, 0xFF, 0xD9]]))
        #expect(escape.isEscape)
        _ = try await store.saveReview(NewReview(subject: .inspection(right.id), verdict: .solderDefect, operatorName: "lee"), images: [:])
        _ = try await store.saveReview(NewReview(subject: .inspection(otherDay.id), verdict: .normal, operatorName: "lee"), images: [:])

        // The machine's verdict never changes; the reviews read back oldest first.
        #expect(try await store.inspection(id: rejected.id)?.category == .discard)
        let history = try await store.reviews(of: .inspection(rejected.id))
        #expect(history.map(\.verdict) == [.discard, .normal])
        #expect(history[1].classes == ["short"] && history[1].note == "dust, not copper" && history[1].operatorName == "kim")
        #expect(history[1].reviewedAt.count == 26)

        let day = CalendarDay("2026-11-26")!
        let stats = try await store.statistics(from: day, through: day)
        #expect(stats.total == 3)
        #expect(stats.frameReviews.reviewed == 3)
        #expect((stats.frameReviews.confirmed, stats.frameReviews.falseCalls, stats.frameReviews.escapes) == (1, 1, 1))
        #expect(stats.boardReviews.reviewed == 0)

        // Frames the operator called wrong are kept for labelling; the passed one with its picture now.
        let passedNow = try #require(try await store.inspection(id: passed.id))
        #expect(passedNow.labelReason == .review)
        #expect(FileManager.default.contents(atPath: try #require(passedNow.imagePath)) == Data([0xFF, 0xD8, 0x01, 0xFF, 0xD9]))
        #expect(try await store.inspection(id: right.id)?.labelReason == nil, "a confirmed verdict is not kept for labelling")
        let kept = try await store.labellingFrames(since: nil, afterId: 0, limit: 10)
        #expect(kept.map(\.inspection.id) == [rejected.id, passed.id, otherDay.id])
        #expect(kept[0].review?.verdict == .normal && kept[1].review?.verdict == .solderDefect)

        // Nothing stored under an id that does not exist.
        #expect(try await store.saveReview(NewReview(subject: .inspection(999_999), verdict: .normal, operatorName: "kim"), images: [:]) == nil)
        #expect(try await store.saveReview(NewReview(subject: .board(999_999), verdict: .normal, operatorName: "kim"), images: [:]) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func aBoardReviewKeepsBothSidesForLabelling(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        let left = try await store.saveInspection(newInspection(.normal, at: seoul(), camera: "left")).record
        let right = try await store.saveInspection(newInspection(.normal, at: seoul(), camera: "right")).record
        let board = try await store.saveBoard(NewBoard(
            boardKey: "B-7", category: .normal, defectType: "정상", confidence: 1, gpio: GPIOSignal(pin: 5, durationMs: 500),
            decidedAt: seoul(), leftInspectionId: left.id, rightInspectionId: right.id))
        let review = try #require(try await store.saveReview(
            NewReview(subject: .board(board.id), verdict: .componentDefect, operatorName: "park"), images: [left.id: [0xFF, 0xD8, 0xFF, 0xD9]]))
        #expect(review.subject == .board(board.id) && review.isEscape)
        #expect(try await store.reviews(of: .board(board.id)).count == 1)
        #expect(try await store.reviews(of: .inspection(left.id)).isEmpty)
        // Both sides are kept; only the one whose picture was at hand can be exported.
        #expect(try await store.inspection(id: left.id)?.labelReason == .review)
        #expect(try await store.inspection(id: right.id)?.labelReason == .review)
        #expect(try await store.labellingFrames(since: nil, afterId: 0, limit: 10).map(\.inspection.id) == [left.id])
        let stats = try await store.statistics(from: CalendarDay("2026-11-26")!, through: CalendarDay("2026-11-26")!)
        #expect(stats.boardReviews.reviewed == 1 && stats.boardReviews.escapes == 1 && stats.frameReviews.reviewed == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func framesKeptForLabellingArePagedByIdAndDay(kind: StoreKind) async throws {
        let (store, directory) = try kind.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await store.migrate()
        var ids: [Int64] = []
        for (day, reason) in [(25, LabellingReason.normalSample), (26, .nearThreshold), (26, .normalSample), (27, .nearThreshold)] {
            var inspection = newInspection(.normal, at: seoul(day: day), image: [0xFF, 0xD8, 0xFF, 0xD9])
            inspection.labelReason = reason
            ids.append(try await store.saveInspection(inspection).record.id)
        }
        _ = try await store.saveInspection(newInspection(.discard, at: seoul(day: 26), image: [0xFF, 0xD8]))  // not kept
        #expect(try await store.inspection(id: ids[1])?.labelReason == .nearThreshold)
        let firstPage = try await store.labellingFrames(since: CalendarDay("2026-11-26")!, afterId: 0, limit: 2)
        #expect(firstPage.map(\.inspection.id) == [ids[1], ids[2]])
        let next = try await store.labellingFrames(since: CalendarDay("2026-11-26")!, afterId: ids[2], limit: 2)
        #expect(next.map(\.inspection.id) == [ids[3]])
        #expect(try await store.labellingFrames(since: nil, afterId: 0, limit: 10).count == 4)
    }
}
