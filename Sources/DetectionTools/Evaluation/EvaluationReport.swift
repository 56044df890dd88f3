// What `pcb eval` writes: the console table, the one-line JSON summary, `report.md` and a
// hand-written `pr_curve.svg` (no plotting dependency).

import Detection
import Foundation
import Inspection

/// Renders an `EvaluationResult`.
public enum EvaluationReport {
    // MARK: - Console

    /// Ultralytics-style table: all classes, then each class with ground truth; verdicts below.
    public static func summaryText(_ result: EvaluationResult) -> String {
        let m = result.metrics
        var lines: [String] = []
        func row(_ name: String, _ images: Int, _ instances: Int, _ values: [Double]) -> String {
            pad(name, 22, left: true) + pad("\(images)", 11, left: true) + pad("\(instances)", 11, left: true)
                + values.map { pad(fixed($0, 3), 11, left: true) }.joined()
        }
        lines.append(pad("Class", 22, left: true) + ["Images", "Instances", "P", "R", "mAP50", "mAP50-95"].map { pad($0, 11, left: true) }.joined())
        lines.append(row("all", result.images, result.instances, [m.precision, m.recall, m.map50, m.map50to95]))
        for c in m.classes {
            lines.append(row(name(c.classIndex, result), c.images, c.instances, [c.precision, c.recall, c.ap50, c.ap50to95]))
        }
        if let v = result.verdicts {
            lines.append("")
            let o = v.outcomes
            lines.append("Board verdicts: \(v.correct)/\(v.total) correct (accuracy \(fixed(v.accuracy, 3)))")
            lines.append("False calls \(o.falseCalls)/\(o.normalBoards) normal (\(percent(o.falseCallRate))), escapes \(o.escapes)/\(o.defectiveBoards) defective (\(percent(o.escapeRate))), wrong category \(o.wrongCategory)/\(o.defectiveBoards) (\(percent(o.wrongCategoryRate)))")
            lines.append(confusionText(v))
        }
        lines.append("")
        lines.append(String(format: "%d images in %.1f s (%.1f img/s, %.0f ms inference per image), input %dx%d",
                            result.images, result.seconds, result.imagesPerSecond,
                            result.images > 0 ? 1000 * result.inferenceSeconds / Double(result.images) : 0,
                            result.inputShape.width, result.inputShape.height) + " (\(result.options.letterbox.rawValue) letterbox)")
        for warning in result.warnings { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n")
    }

    /// A rate as a percentage with one decimal.
    static func percent(_ rate: Double) -> String { String(format: "%.1f %%", rate * 100) }

    /// The verdict confusion matrix as aligned text (rows: truth, columns: predicted).
    public static func confusionText(_ v: VerdictConfusion) -> String {
        let names = VerdictConfusion.categories.map(\.rawValue)
        var lines = [pad("truth \\ predicted", 18, left: false) + names.map { pad($0, 18, left: true) }.joined()]
        for (i, name) in names.enumerated() {
            lines.append(pad(name, 18, left: false) + v.counts[i].map { pad("\($0)", 18, left: true) }.joined())
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - JSON

    /// The JSON summary (one object; `pcb eval --json` prints it as its last line).
    public static func jsonObject(_ result: EvaluationResult) -> [String: Any] {
        let m = result.metrics
        var perClass: [String: Any] = [:]
        for c in m.classes {
            perClass[name(c.classIndex, result)] = [
                "ap50": c.ap50, "ap50_95": c.ap50to95, "instances": c.instances, "images": c.images,
                "precision": c.precision, "recall": c.recall,
            ] as [String: Any]
        }
        var object: [String: Any] = [
            "map50": m.map50, "map50_95": m.map50to95, "precision": m.precision, "recall": m.recall,
            "iou": decimal(m.headlineIoU), "per_class": perClass,
            "images": result.images, "instances": result.instances,
            "model": result.modelPath, "data": result.dataPath, "split": result.split,
            "conf": decimal(result.options.confidence), "nms_iou": decimal(result.options.nmsIoU),
            "letterbox": result.options.letterbox.rawValue,
            "input": "\(result.inputShape.width)x\(result.inputShape.height)",
            "seconds": result.seconds, "images_per_second": result.imagesPerSecond,
        ]
        if let fired = result.anomalyFired { object["anomaly_fired"] = fired }
        if let golden = result.golden {
            object["golden"] = ["suppressed_boxes": golden.suppressedBoxes, "unregistered": golden.unregistered,
                                "without_golden": golden.withoutGolden, "anomaly_vetted": golden.anomalyVetted]
        }
        if let v = result.verdicts {
            object["verdict_accuracy"] = v.accuracy
            var matrix: [String: Any] = [:]
            for (i, truth) in VerdictConfusion.categories.enumerated() {
                var row: [String: Any] = [:]
                for (j, predicted) in VerdictConfusion.categories.enumerated() { row[predicted.rawValue] = v.counts[i][j] }
                matrix[truth.rawValue] = row
            }
            object["verdict_confusion"] = matrix
            let o = v.outcomes
            object["board_outcomes"] = [
                "normal": o.normalBoards, "defective": o.defectiveBoards,
                "false_calls": o.falseCalls, "escapes": o.escapes, "wrong_category": o.wrongCategory,
                "false_call_rate": o.falseCallRate, "escape_rate": o.escapeRate, "wrong_category_rate": o.wrongCategoryRate,
            ] as [String: Any]
        } else {
            object["verdict_accuracy"] = NSNull()
            object["verdict_confusion"] = NSNull()
            object["board_outcomes"] = NSNull()
        }
        return object
    }

    /// `jsonObject` as one line, keys sorted.
    public static func jsonLine(_ result: EvaluationResult) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: jsonObject(result), options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: - Markdown

    public static func markdown(_ result: EvaluationResult, command: String) -> String {
        let m = result.metrics
        let o = result.options
        var md: [String] = []
        md.append("# Detector evaluation: \((result.modelPath as NSString).lastPathComponent)")
        md.append("")
        md.append("```\n\(command)\n```")
        md.append("")
        md.append("| | |")
        md.append("|---|---|")
        md.append("| Model | `\(result.modelPath)` — \(result.modelDescription) |")
        md.append("| Data | `\(result.dataPath)`, split `\(result.split)` |")
        md.append("| Images / instances | \(result.images) / \(result.instances) |")
        md.append("| Input | \(result.inputShape.width)x\(result.inputShape.height) (`\(o.letterbox.rawValue)` letterbox) |")
        md.append("| Predictions | conf > \(o.confidence), NMS IoU \(o.nmsIoU), multi-label, at most \(o.maxDetections) per image |")
        md.append(String(format: "| Speed | %.1f s, %.2f img/s, %.0f ms inference per image, %d engine threads |", result.seconds,
                         result.imagesPerSecond, result.images > 0 ? 1000 * result.inferenceSeconds / Double(result.images) : 0, o.threads))
        md.append("")
        md.append("## Summary")
        md.append("")
        md.append("| P | R | mAP@0.5 | mAP@0.5:0.95 |")
        md.append("|---:|---:|---:|---:|")
        md.append("| \(fixed(m.precision, 4)) | \(fixed(m.recall, 4)) | \(fixed(m.map50, 4)) | \(fixed(m.map50to95, 4)) |")
        md.append("")
        md.append("P and R are at IoU \(m.headlineIoU) and at the confidence (\(fixed(m.bestConfidence, 3))) where the smoothed class-mean F1 peaks, as Ultralytics reports them. mAP averages the \(m.classes.count) classes present in the labels.")
        md.append("")
        md.append("## Per class")
        md.append("")
        md.append("| Class | Images | Instances | P | R | AP@0.5 | AP@0.5:0.95 |")
        md.append("|---|---:|---:|---:|---:|---:|---:|")
        for c in m.classes {
            md.append("| \(name(c.classIndex, result)) | \(c.images) | \(c.instances) | \(fixed(c.precision, 3)) | \(fixed(c.recall, 3)) | \(fixed(c.ap50, 4)) | \(fixed(c.ap50to95, 4)) |")
        }
        let absent = result.classNames.indices.filter { i in !m.classes.contains { $0.classIndex == i } }
        if !absent.isEmpty {
            md.append("")
            md.append("No labels (not averaged): \(absent.map { result.classNames[$0] }.joined(separator: ", ")).")
        }
        md.append("")
        md.append("![Precision-recall curve](pr_curve.svg)")
        if let v = result.verdicts {
            md.append("")
            md.append("## Board verdicts")
            md.append("")
            let o = v.outcomes
            md.append("Accuracy \(fixed(v.accuracy, 4)) (\(v.correct)/\(v.total) images). Truth: the policy applied to the labels (an image without labels is a normal board); predicted: the policy applied to this run's boxes (its confidence threshold applies).")
            md.append("")
            md.append("| outcome | boards | of | rate |")
            md.append("|---|---:|---:|---:|")
            md.append("| false calls (normal board rejected) | \(o.falseCalls) | \(o.normalBoards) normal | \(percent(o.falseCallRate)) |")
            md.append("| escapes (defective board passed) | \(o.escapes) | \(o.defectiveBoards) defective | \(percent(o.escapeRate)) |")
            md.append("| wrong category (defective board, other defect bin) | \(o.wrongCategory) | \(o.defectiveBoards) defective | \(percent(o.wrongCategoryRate)) |")
            md.append("")
            md.append("| truth \\ predicted | " + VerdictConfusion.categories.map(\.rawValue).joined(separator: " | ") + " |")
            md.append("|---|" + String(repeating: "---:|", count: 4))
            for (i, truth) in VerdictConfusion.categories.enumerated() {
                md.append("| \(truth.rawValue) | " + v.counts[i].map(String.init).joined(separator: " | ") + " |")
            }
        }
        if !result.warnings.isEmpty {
            md.append("")
            md.append("## Warnings")
            md.append("")
            for warning in result.warnings { md.append("- \(warning)") }
        }
        md.append("")
        return md.joined(separator: "\n")
    }

    // MARK: - SVG

    /// Precision-recall curves at the headline IoU: one line per class, the class mean thick.
    public static func prCurveSVG(_ result: EvaluationResult) -> String {
        let m = result.metrics
        let width = 900.0, height = 560.0
        let left = 70.0, top = 50.0, plotWidth = 520.0, plotHeight = 440.0
        let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                       "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94"]
        func px(_ r: Double) -> String { String(format: "%.1f", left + r * plotWidth) }
        func py(_ p: Double) -> String { String(format: "%.1f", top + (1 - p) * plotHeight) }
        func polyline(_ ys: [Double], color: String, strokeWidth: Double) -> String {
            let x = m.curveRecall
            var points: [String] = []
            for i in ys.indices where i == 0 || i == ys.count - 1 || ys[i] != ys[i - 1] || ys[i] != ys[i + 1] {
                points.append("\(px(x[i])),\(py(ys[i]))")
            }
            return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(strokeWidth)\" points=\"\(points.joined(separator: " "))\"/>"
        }
        var svg: [String] = []
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">")
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        svg.append("<text x=\"\(left + plotWidth / 2)\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">Precision-Recall curve (IoU \(m.headlineIoU)) — \(xml((result.modelPath as NSString).lastPathComponent))</text>")
        // Grid, ticks and tick labels.
        for i in 0...5 {
            let v = Double(i) / 5
            svg.append("<line x1=\"\(px(v))\" y1=\"\(py(0))\" x2=\"\(px(v))\" y2=\"\(py(1))\" stroke=\"#e5e5e5\"/>")
            svg.append("<line x1=\"\(px(0))\" y1=\"\(py(v))\" x2=\"\(px(1))\" y2=\"\(py(v))\" stroke=\"#e5e5e5\"/>")
            svg.append("<text x=\"\(px(v))\" y=\"\(String(format: "%.1f", top + plotHeight + 18))\" text-anchor=\"middle\">\(String(format: "%.1f", v))</text>")
            svg.append("<text x=\"\(String(format: "%.1f", left - 8))\" y=\"\(String(format: "%.1f", top + (1 - v) * plotHeight + 4))\" text-anchor=\"end\">\(String(format: "%.1f", v))</text>")
        }
        svg.append("<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"black\"/>")
        svg.append("<text x=\"\(left + plotWidth / 2)\" y=\"\(top + plotHeight + 40)\" text-anchor=\"middle\" font-size=\"14\">Recall</text>")
        svg.append("<text transform=\"translate(22 \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">Precision</text>")
        // Curves.
        for (i, c) in m.classes.enumerated() {
            svg.append(polyline(c.precisionCurve, color: palette[i % palette.count], strokeWidth: 1.2))
        }
        svg.append(polyline(m.meanPrecisionCurve, color: "#0000cc", strokeWidth: 3.5))
        // Legend.
        let legendX = left + plotWidth + 25
        var y = top + 8
        func legendRow(_ label: String, color: String, strokeWidth: Double) {
            svg.append("<line x1=\"\(legendX)\" y1=\"\(y - 4)\" x2=\"\(legendX + 24)\" y2=\"\(y - 4)\" stroke=\"\(color)\" stroke-width=\"\(strokeWidth)\"/>")
            svg.append("<text x=\"\(legendX + 32)\" y=\"\(y)\">\(xml(label))</text>")
            y += 20
        }
        legendRow("all classes \(fixed(m.mapHeadline, 3)) mAP@\(m.headlineIoU)", color: "#0000cc", strokeWidth: 3.5)
        for (i, c) in m.classes.enumerated() {
            legendRow("\(name(c.classIndex, result)) \(fixed(c.ap[m.headlineColumn], 3))", color: palette[i % palette.count], strokeWidth: 2)
        }
        if m.classes.isEmpty { legendRow("no labelled objects", color: "#999999", strokeWidth: 1) }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Writes `report.md` and `pr_curve.svg` into `directory` (created if needed).
    public static func write(_ result: EvaluationResult, command: String, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let folder = URL(fileURLWithPath: directory)
        try Data(markdown(result, command: command).utf8).write(to: folder.appendingPathComponent("report.md"))
        try Data(prCurveSVG(result).utf8).write(to: folder.appendingPathComponent("pr_curve.svg"))
    }

    // MARK: - Helpers

    private static func name(_ index: Int, _ result: EvaluationResult) -> String {
        index < result.classNames.count ? result.classNames[index] : "class_\(index)"
    }

    /// A Float as the Double of its shortest decimal form (0.001, not 0.0010000000474974513).
    private static func decimal(_ value: Float) -> Double { Double("\(value)") ?? Double(value) }

    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    private static func pad(_ text: String, _ width: Int, left: Bool) -> String {
        let count = text.count
        guard count < width else { return left ? " " + text : text + " " }
        let spaces = String(repeating: " ", count: width - count)
        return left ? spaces + text : text + spaces
    }

    private static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
