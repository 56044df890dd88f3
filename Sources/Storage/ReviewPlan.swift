// What storing one operator review means, the same for every engine: the machine's verdict it
// is made against, the day it counts on (the subject's, not the review's: statistics say how
// the line judged those days), and which frames are then kept for labelling.

import Foundation
import Inspection

/// A reviewed subject as the store read it: its machine verdict, its time and its frames.
struct ReviewTarget {
    struct Frame {
        var id: Int64
        var cameraId: String
        /// The frame's category code, as stored.
        var category: String
        var imagePath: String?
        /// Local time, `YYYY-MM-DD HH:MM:SS.ffffff`.
        var time: String
    }

    var machineCategory: CategoryCode
    /// The inspection's time or the board's decision time (local).
    var itemTime: String
    var frames: [Frame]

    /// A review row read back; throws on a row no version of the server writes.
    static func review(id: Int64, kind: String, subjectId: Int64, machineCategory: String, verdict: String, classes: String?,
                       note: String?, operatorName: String, reviewedAt: String) throws -> StoredReview {
        guard let machine = CategoryCode(rawValue: machineCategory), let said = CategoryCode(rawValue: verdict) else {
            throw StoreError.invalidArgument("review \(id) names an unknown category ('\(machineCategory)', '\(verdict)')")
        }
        let subject: ReviewSubject = kind == "board" ? .board(subjectId) : .inspection(subjectId)
        let names = try classes.map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        return StoredReview(id: id, subject: subject, machineCategory: machine, verdict: said, classes: names, note: note,
                            operatorName: operatorName, reviewedAt: reviewedAt)
    }
}

/// The rows one review writes.
struct ReviewPlan {
    let review: NewReview
    let target: ReviewTarget
    let itemDay: String
    let reviewedAt: String
    let classesJSON: String?

    init(_ review: NewReview, target: ReviewTarget, time: StoreTime) {
        self.review = review
        self.target = target
        itemDay = String(target.itemTime.prefix(10))
        reviewedAt = time.string(from: review.reviewedAt)
        classesJSON = review.classes.isEmpty ? nil : String(decoding: (try? JSONEncoder().encode(review.classes)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// A verdict the operator says is wrong makes its frames worth labelling (both sides of a
    /// board: the review does not say which side was misjudged).
    var framesToKeep: [ReviewTarget.Frame] {
        review.verdict == target.machineCategory ? [] : target.frames
    }

    /// Writes the JPEG (from `images`) of each frame to keep that has none stored yet; the paths
    /// by inspection id. Written before the transaction, as for inspections: a failed
    /// transaction removes them again.
    func writeMissingImages(_ images: [Int64: [UInt8]], to folder: DefectImageFolder?) throws -> [Int64: String] {
        var paths: [Int64: String] = [:]
        for frame in framesToKeep where frame.imagePath == nil {
            guard let jpeg = images[frame.id] else { continue }
            if let path = try folder?.write(jpeg: jpeg, cameraId: frame.cameraId, category: frame.category, localTime: frame.time) {
                paths[frame.id] = path
            }
        }
        return paths
    }

    func stored(id: Int64) -> StoredReview {
        StoredReview(id: id, subject: review.subject, machineCategory: target.machineCategory, verdict: review.verdict,
                     classes: review.classes, note: review.note, operatorName: review.operatorName, reviewedAt: reviewedAt)
    }
}
