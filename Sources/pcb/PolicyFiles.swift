// The files every command that judges frames reads: the defect policy and, beside the model,
// its calibrated operating point (`pcb calibrate`). One place, so `detect`, `eval`,
// `calibrate` and `simulate` find them and word their mistakes the same way.

import ArgumentParser
import Foundation
import Detection
import ImageKit
import Inspection
import NeuralEngine

enum PolicyFiles {
    /// The golden board in the JPEG at `path` (`--reference`).
    static func goldenBoard(_ path: String, tolerance: GoldenTolerance = GoldenTolerance()) throws -> GoldenBoard {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read the golden board \(path) (--reference)") }
        do { return try GoldenBoard(reference: try JPEGCodec().decode([UInt8](data)), tolerance: tolerance) } catch {
            throw ValidationError("golden board \(path): \(error)")
        }
    }

    /// The precision `--precision` names for the model run with `flips` (`auto` reads its
    /// accuracy record); the choice of `auto` is said on stderr.
    static func precision(_ requested: String, modelPath: String, flips: TestTimeFlips? = nil) throws -> Precision {
        do {
            let (precision, reason) = try PrecisionSelection.resolve(requested, modelPath: modelPath, flips: flips)
            if requested.lowercased() == "auto" { FileHandle.standardError.write(Data("precision \(precision) (\(reason))\n".utf8)) }
            return precision
        } catch {
            throw ValidationError("--precision: \(error)")
        }
    }

    /// The policy at `path`.
    static func policy(_ path: String) throws -> DefectPolicy {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read the defect policy \(path) (--policy)")
        }
        do { return try DefectPolicy.load(yaml: text, fileName: path) } catch { throw ValidationError(error.description) }
    }

    /// The operating point a command uses: `option` names a file, `none` for none; without
    /// the option, the one beside the model if there is one. Refused when its classes are not
    /// the model's; `modelClasses` is asked only when there is a point to check (it may load
    /// the model).
    static func operatingPoint(_ option: String?, modelPath: String, modelClasses: () throws -> [String]) throws -> OperatingPoint? {
        guard let read = try readOperatingPoint(option, modelPath: modelPath) else { return nil }
        try check(read, modelClasses: try modelClasses())
        return read.point
    }

    /// The operating point `option` names, unchecked, with its path (for a caller that checks
    /// it against a model it opens later).
    static func readOperatingPoint(_ option: String?, modelPath: String) throws -> (point: OperatingPoint, path: String)? {
        do { return try OperatingPoint.read(option: option, modelPath: modelPath) } catch { throw ValidationError("\(error)") }
    }

    /// Refuses an operating point chosen for a model with other classes.
    static func check(_ read: (point: OperatingPoint, path: String), modelClasses: [String]) throws {
        do { try read.point.check(modelClasses: modelClasses, name: read.path) } catch { throw ValidationError("\(error)") }
    }

    /// The flips a command runs the model with: `--flips` when given (said on stderr when the
    /// operating point's thresholds were chosen with others), else the operating point's.
    static func flips(_ option: TestTimeFlips?, point: OperatingPoint?) -> TestTimeFlips {
        let calibrated = point?.testTimeFlips ?? .none
        guard let option else { return calibrated }
        if let point, option != calibrated {
            FileHandle.standardError.write(Data(("--flips \(option): the thresholds of \(point.model)'s calibration were chosen "
                + "with flips \(calibrated)\n").utf8))
        }
        return option
    }
}

extension TestTimeFlips: ExpressibleByArgument {}
