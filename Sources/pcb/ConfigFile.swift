// The YAML file a command reads its settings from: the one given with --config, else the
// default path when it exists, else none (defaults, environment and flags only).

import ArgumentParser
import Foundation

struct ConfigFile {
    /// Path and contents, or nil when no file is used.
    let path: String?
    let text: String?

    init(explicit: String?, defaultPath: String) throws {
        path = explicit ?? (FileManager.default.fileExists(atPath: defaultPath) ? defaultPath : nil)
        guard let path else {
            text = nil
            return
        }
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read config file \(path)")
        }
        text = contents
    }
}
