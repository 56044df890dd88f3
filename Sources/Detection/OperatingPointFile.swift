// Finding and reading a model's calibrated operating point (`pcb calibrate`): the one lookup
// that `pcb serve`, `pcb detect` and `pcb eval` share. A file named by the user must exist;
// without one, the file beside the model is used when it is there; `none` uses none.

import Foundation
import Inspection

extension OperatingPoint {
    /// The operating point `option` names (a path, or `none`), else the one beside `modelPath`
    /// if there is one; with the path it was read from.
    public static func read(option: String?, modelPath: String) throws -> (point: OperatingPoint, path: String)? {
        if option == "none" { return nil }
        let path = option ?? OperatingPoint.path(besideModel: modelPath)
        guard FileManager.default.fileExists(atPath: path) else {
            if option != nil { throw DetectionError.calibration("calibration file not found: \(path) (--calibration)") }
            return nil
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DetectionError.calibration("cannot read the calibration file \(path)")
        }
        do { return (try OperatingPoint.parse(text, name: path), path) } catch {
            throw DetectionError.calibration(error.description)
        }
    }
}
