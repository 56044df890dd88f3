// The evaluation math against hand-worked cases and against Ultralytics 8.4.190 itself
// (`ap_per_class`, `match_predictions`) on a seeded random case.

import Foundation
import Inspection
import Testing
@testable import Detection
@testable import DetectionTools

private func box(_ x1: Float, _ y1: Float, _ x2: Float, _ y2: Float, _ c: Int = 0, _ conf: Float = 1) -> EvaluationBox {
    EvaluationBox(x1: x1, y1: y1, x2: x2, y2: y2, classIndex: c, confidence: conf)
}

@Suite struct EvaluationMetricsTests {
    // Ultralytics' AP of a perfect class is 0.995, not 1: the envelope's sentinel drops to 0 at
    // recall 1, so the last of the 100 trapezoids is half. We match Ultralytics, quirk included.
    static let perfectAP = 0.995

    @Test func perfectDetectionsScore0995AtEveryThreshold() {
        var stats = DetectionStatistics()
        stats.add(predictions: [box(0, 0, 10, 10, 0, 0.9), box(20, 20, 40, 40, 1, 0.8)],
                  groundTruth: [box(0, 0, 10, 10, 0), box(20, 20, 40, 40, 1)])
        let m = stats.compute()
        #expect(m.classes.count == 2)
        for c in m.classes { #expect(c.ap.allSatisfy { abs($0 - Self.perfectAP) < 1e-12 }) }
        #expect(abs(m.map50 - Self.perfectAP) < 1e-12 && abs(m.map50to95 - Self.perfectAP) < 1e-12)
        #expect(abs(m.precision - 1) < 1e-9 && abs(m.recall - 1) < 1e-9)
    }

    @Test func falsePositiveRankedAboveTheTruePositive() {
        // recall [0, 1], precision [0, 0.5] -> envelope 0.5 on [0, 1), 0 at 1: 99 * 0.005 + 0.0025.
        var stats = DetectionStatistics()
        stats.add(predictions: [box(50, 50, 60, 60, 0, 0.9), box(0, 0, 10, 10, 0, 0.8)], groundTruth: [box(0, 0, 10, 10, 0)])
        #expect(abs(stats.compute().map50 - 0.4975) < 1e-12)
        #expect(abs(APMath.averagePrecision(recall: [0, 1], precision: [0, 0.5]).ap - 0.4975) < 1e-12)
    }

    @Test func aMissedObjectHalvesRecall() {
        // recall [0.5], precision [1] -> 1 on [0, 0.5), 0 from 0.5: 49 * 0.01 + 0.005.
        var stats = DetectionStatistics()
        stats.add(predictions: [box(0, 0, 10, 10, 0, 0.9)], groundTruth: [box(0, 0, 10, 10, 0), box(30, 30, 40, 40, 0)])
        let m = stats.compute()
        #expect(abs(m.map50 - 0.495) < 1e-12)
        #expect(m.classes[0].instances == 2)
    }

    @Test func twoClassesAreAveraged() {
        var stats = DetectionStatistics()
        stats.add(predictions: [box(0, 0, 10, 10, 0, 0.9), box(20, 20, 30, 30, 1, 0.7)],
                  groundTruth: [box(0, 0, 10, 10, 0), box(20, 20, 30, 30, 1), box(50, 50, 60, 60, 1)])
        #expect(abs(stats.compute().map50 - (0.995 + 0.495) / 2) < 1e-12)
    }

    @Test func classesWithoutLabelsAreNotAveragedButUnpredictedOnesCountZero() {
        var stats = DetectionStatistics()
        // Class 5 predicted but not labelled: ignored. Class 2 labelled, never predicted: AP 0.
        stats.add(predictions: [box(0, 0, 10, 10, 0, 0.9), box(0, 0, 10, 10, 5, 0.95)],
                  groundTruth: [box(0, 0, 10, 10, 0), box(70, 70, 80, 80, 2)])
        let m = stats.compute()
        #expect(m.classes.map(\.classIndex) == [0, 2])
        #expect(abs(m.map50 - 0.995 / 2) < 1e-12)
    }

    @Test func iouSweepCountsSixOfTenThresholdsForIoU075() {
        // 100x75 inside 100x100: IoU exactly 0.75 (float32, eps included) -> TP at 0.50...0.75.
        let truth = box(0, 0, 100, 100, 0), prediction = box(0, 0, 100, 75, 0, 0.9)
        #expect(DetectionMatching.iou(truth, prediction) == 0.75)
        let correct = DetectionMatching.match(predictions: [prediction], groundTruth: [truth])
        #expect(correct == [[true, true, true, true, true, true, false, false, false, false]])
        var stats = DetectionStatistics()
        stats.add(predictions: [prediction], groundTruth: [truth])
        let m = stats.compute()
        #expect(abs(m.map50 - 0.995) < 1e-12)
        #expect(abs(m.map50to95 - 0.995 * 6 / 10) < 1e-12)
    }

    @Test func oneObjectMatchesOnePrediction() {
        let truth = box(0, 0, 10, 10, 0)
        let correct = DetectionMatching.match(predictions: [box(0, 0, 10, 10, 0, 0.9), box(0, 0, 10, 10, 0, 0.8)], groundTruth: [truth])
        #expect(correct[0].allSatisfy { $0 } && correct[1].allSatisfy { !$0 })
        // A box of another class never matches.
        #expect(DetectionMatching.match(predictions: [box(0, 0, 10, 10, 1, 0.9)], groundTruth: [truth]) == [[Bool](repeating: false, count: 10)])
        var stats = DetectionStatistics()
        stats.add(predictions: [box(0, 0, 10, 10, 0, 0.9), box(0, 0, 10, 10, 0, 0.8)], groundTruth: [truth])
        let m = stats.compute()
        #expect(abs(m.map50 - 0.995) < 1e-12)          // the duplicate ranks below the TP: AP unharmed
        // but precision read at the best smoothed-F1 confidence (between the two scores) drops below 1.
        #expect(m.classes[0].precision > 0.5 && m.classes[0].precision < 0.99 && abs(m.classes[0].recall - 1) < 1e-9)
    }

    @Test func interpolationOfASmallCurveByHand() {
        // recall    0.25 0.50 0.50 0.75
        // precision 1    1    2/3  0.75   -> envelope 1 up to recall 0.5 (exclusive), 0.75 up to 0.75, then 0.
        // 101 points: 50 at 1, 25 at 0.75, 26 at 0 -> 0.49 + 0.00875 + 0.18 + 0.00375 = 0.6825.
        let (ap, envelope, axis) = APMath.averagePrecision(recall: [0.25, 0.5, 0.5, 0.75], precision: [1, 1, 2.0 / 3, 0.75])
        #expect(abs(ap - 0.6825) < 1e-12)
        #expect(axis == [0, 0.25, 0.5, 0.5, 0.75, 0.75, 1])
        #expect(envelope == [1, 1, 1, 0.75, 0.75, 0, 0])
    }

    @Test func interpFollowsNumpy() {
        let xp: [Double] = [0, 0.5, 0.5, 1], fp: [Double] = [1, 1, 0, 0]
        #expect(APMath.interp([-1, 0, 0.25, 0.5, 0.75, 1, 2], xp, fp, left: 7, right: 9) == [7, 1, 1, 0, 0, 0, 9])
        #expect(APMath.linspace(0, 1, 5) == [0, 0.25, 0.5, 0.75, 1])
        #expect(APMath.smooth([2, 2, 2, 2, 2], fraction: 0.1) == [2, 2, 2, 2, 2])
        #expect(APMath.argmax([0, 3, 1, 3]) == 1)
    }

    @Test func matchesUltralyticsMatchPredictions() throws {
        let g = try JSONDecoder().decode(Golden.self, from: Data(Self.golden.utf8)).match
        let truth = zip(g.gt, g.gcls).map { b, c in box(Float(b[0]), Float(b[1]), Float(b[2]), Float(b[3]), c) }
        let predictions = zip(g.pred, g.pcls).map { b, c in box(Float(b[0]), Float(b[1]), Float(b[2]), Float(b[3]), c, 0.5) }
        let correct = DetectionMatching.match(predictions: predictions, groundTruth: truth)
        #expect(correct.map { String($0.map { $0 ? "1" : "0" }) } == g.correct)
    }

    @Test func matchesUltralyticsAPPerClass() throws {
        let g = try JSONDecoder().decode(Golden.self, from: Data(Self.golden.utf8))
        var stats = DetectionStatistics()
        stats.add(correct: g.tp.map { $0.map { $0 == "1" } }, confidences: g.conf.map(Float.init), predictedClasses: g.pred,
                  targetClasses: g.target)
        let m = stats.compute()
        #expect(m.classes.map(\.classIndex) == g.classes)
        for (c, expected) in zip(m.classes, g.ap) {
            for (a, b) in zip(c.ap, expected) { #expect(abs(a - b) < 1e-9) }
        }
        for (c, (p, r)) in zip(m.classes, zip(g.p, g.r)) {
            #expect(abs(c.precision - p) < 1e-9)
            #expect(abs(c.recall - r) < 1e-9)
        }
        #expect(abs(m.map50 - g.map50) < 1e-9 && abs(m.map50to95 - g.map) < 1e-9)
    }

    @Test func offGridHeadlineIoUIsItsOwnColumn() {
        var stats = DetectionStatistics(thresholds: DetectionMatching.standardThresholds + [0.3])
        // IoU 0.4: a miss at 0.5, a hit at 0.3.
        stats.add(predictions: [box(0, 0, 100, 40, 0, 0.9)], groundTruth: [box(0, 0, 100, 100, 0)])
        let m = stats.compute(headlineColumn: 10)
        #expect(m.map50 == 0 && abs(m.mapHeadline - 0.995) < 1e-12)
        #expect(abs(m.recall - 1) < 1e-9)
    }

    @Test func verdictConfusionCountsAndAccuracy() {
        var v = VerdictConfusion()
        v.add(truth: .normal, predicted: .normal)
        v.add(truth: .normal, predicted: .solderDefect)
        v.add(truth: .discard, predicted: .discard)
        v.add(truth: .componentDefect, predicted: .normal)
        #expect(v.total == 4 && v.correct == 2 && v.accuracy == 0.5)
        #expect(v.counts[0] == [1, 0, 1, 0])
        #expect(v.counts[1] == [1, 0, 0, 0])
        #expect(v.counts[3] == [0, 0, 0, 1])
        // One normal board rejected (a false call), one defective board passed (an escape).
        let o = v.outcomes
        #expect((o.normalBoards, o.defectiveBoards, o.falseCalls, o.escapes, o.wrongCategory) == (2, 2, 1, 1, 0))
        #expect(o.falseCallRate == 0.5 && o.escapeRate == 0.5)
    }

    @Test func verdictsFollowThePolicy() throws {
        let policyURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data/pcb_defects.yaml")
        let policy = try DefectPolicy.load(yaml: String(contentsOf: policyURL, encoding: .utf8))
        let truth = policy.judge([DetectedDefect(className: "short", confidence: 1, x1: 0, y1: 0, x2: 1, y2: 1)]).category.code
        let weak = policy.judge([DetectedDefect(className: "short", confidence: 0.1, x1: 0, y1: 0, x2: 1, y2: 1)]).category.code
        var v = VerdictConfusion()
        v.add(truth: truth, predicted: weak)   // below the policy threshold: judged normal
        #expect(truth != .normal && weak == .normal)
        #expect(v.accuracy == 0)
    }

    private struct Golden: Decodable {
        struct Match: Decodable {
            let gt: [[Double]]
            let gcls: [Int]
            let pred: [[Double]]
            let pcls: [Int]
            let correct: [String]
        }
        let tp: [String]
        let conf: [Double]
        let pred: [Int]
        let target: [Int]
        let classes: [Int]
        let ap: [[Double]]
        let p: [Double]
        let r: [Double]
        let map50: Double
        let map: Double
        let match: Match
    }

    /// Made by Ultralytics 8.4.190 (numpy seed 7): `ap_per_class(tp, conf, pred, target)` and
    /// `DetectionValidator.match_predictions` on `box_iou` of the boxes.
    static let golden = #"""
{"tp":["1111110000","1111111110","1111111100","1000000000","1100000000","1111111110","0000000000","1111111100","1111111100","1111000000","1100000000","1100000000","1100000000","1111000000","1111100000","1111100000","1111111111","1111111100","1111110000","1111111111","1000000000","0000000000","1111110000","0000000000","0000000000","1111100000","1111000000","1111111111","1111110000","1111100000","1111000000","1000000000","0000000000","1000000000","1111111000","1000000000","1110000000","0000000000","1111111100","0000000000","1100000000","1111111110","1111100000","1111111110","1111110000","1111111000","0000000000","1111100000","1111100000","1111111110","1110000000","1111110000","0000000000","1110000000","1100000000","0000000000","1111111100","1110000000","1111111111","1111110000"],"conf":[0.6050562262535095,0.6379965543746948,0.676450252532959,0.15078802406787872,0.440313458442688,0.2395639568567276,0.4024983048439026,0.09670409560203552,0.9678280353546143,0.21500404179096222,0.671765148639679,0.3004200756549835,0.8740770220756531,0.6622147560119629,0.13161581754684448,0.8450742959976196,0.9449481964111328,0.9039167761802673,0.569719135761261,0.14545994997024536,0.19246350228786469,0.9279056787490845,0.552326500415802,0.18055249750614166,0.8840568661689758,0.6415717005729675,0.5696942806243896,0.3762878477573395,0.4109552800655365,0.23948921263217926,0.03805728629231453,0.8762187957763672,0.46773022413253784,0.5476351976394653,0.32216331362724304,0.7513248920440674,0.025196870788931847,0.37218526005744934,0.030350293964147568,0.1228921040892601,0.9671482443809509,0.657760739326477,0.4282202422618866,0.5237401127815247,0.8728092312812805,0.3442106544971466,0.5902909636497498,0.6836843490600586,0.3554137647151947,0.5190984606742859,0.7652474045753479,0.9091793298721313,0.1510622799396515,0.933419406414032,0.005178865976631641,0.7529774904251099,0.8105268478393555,0.1367640495300293,0.418903648853302,0.8152562975883484],"pred":[2,0,2,1,1,2,2,1,0,2,0,0,0,0,2,1,0,0,1,1,0,2,2,1,2,1,0,0,0,2,0,1,0,2,0,1,2,1,2,2,2,2,1,1,2,1,2,2,1,1,2,2,0,0,0,1,0,1,1,2],"target":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,3,3],"classes":[0,1,2,3],"ap":[[0.867171052631579,0.8136315789473685,0.5425238095238095,0.43734126984126986,0.3025,0.3025,0.2602777777777778,0.23335470085470084,0.050576923076923075,0.03519230769230769],[0.8472351332877649,0.5471838687628161,0.45118421052631585,0.40753095975232206,0.40753095975232206,0.15404605263157894,0.11210526315789474,0.07930622009569377,0.061844919786096256,0.013529411764705884],[0.6863875598086125,0.6308299595141701,0.526912035333088,0.4083925723399408,0.3666570117189313,0.23426073926073926,0.03804761904761905,0.03804761904761905,0.011875,0.0],[0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0]],"p":[0.8947368421052632,0.8421052631578947,0.7727272727272727,0.0],"r":[0.8947368421052632,0.9411764705882353,0.85,0.0],"map50":0.6001984364319891,"map":0.24669941339834917,"match":{"gt":[[161.0,135.0,208.0,167.0],[143.0,26.0,188.0,82.0],[194.0,59.0,227.0,103.0],[79.0,146.0,107.0,172.0],[10.0,93.0,38.0,124.0],[183.0,162.0,236.0,205.0]],"gcls":[0,0,1,1,0,2],"pred":[[158.7113037109375,139.22181701660156,203.63792419433594,166.3744354248047],[188.71693420410156,61.20478057861328,226.92967224121094,103.21432495117188],[140.74307250976562,27.36435317993164,186.38211059570312,81.5712890625],[6.351691722869873,97.006591796875,36.47868728637695,124.87503814697266],[9.898628234863281,91.67656707763672,36.47611618041992,125.89025115966797],[142.54566955566406,26.06666374206543,191.52952575683594,84.04153442382812],[162.14779663085938,133.3092803955078,203.85409545898438,169.8485870361328],[160.577880859375,136.6256561279297,210.34432983398438,169.49356079101562],[12.764150619506836,91.63314819335938,42.544918060302734,120.26022338867188],[11.481796264648438,95.62085723876953,43.63702392578125,128.45333862304688],[75.56446838378906,140.93399047851562,109.45066833496094,168.9549560546875],[145.51918029785156,21.068607330322266,181.67005920410156,82.77790069580078],[79.1331558227539,145.26258850097656,107.1156005859375,169.41845703125],[78.50003814697266,143.08486938476562,102.0695571899414,173.5170440673828]],"pcls":[0,0,0,0,0,2,1,0,0,0,1,0,0,1],"correct":["1111100000","0000000000","1111111100","1111100000","0000011100","0000000000","0000000000","0000011000","0000000000","0000000000","1110000000","0000000000","0000000000","0001100000"]}}
"""#
}
