// Where `pcb serve` finds its own files (the defect policy, the API description, the dashboard,
// the bundled models, configs/server.yaml) when started outside the repository or the install
// folder. A relative path is taken as it is when it exists from the working directory; else it
// is looked up beside the executable: `PREFIX/bin/pcb` finds `PREFIX/data/...` (the layout of
// `make install`, /opt/pcb by default), and `.build/<triple>/release/pcb` finds the checkout's.

import Foundation

/// Folders that may hold the program's own files, nearest first.
public struct InstalledFiles: Sendable {
    public let roots: [String]

    public init(roots: [String]) {
        self.roots = roots
    }

    /// The working directory, then up to three folders above the running executable.
    public static func forThisProcess() -> InstalledFiles {
        var roots = [FileManager.default.currentDirectoryPath]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var folder = (executable as NSString).deletingLastPathComponent
            for _ in 0..<4 {
                folder = (folder as NSString).deletingLastPathComponent
                if !folder.isEmpty, !roots.contains(folder) { roots.append(folder) }
            }
        }
        return InstalledFiles(roots: roots)
    }

    /// `path` when absolute or found from the working directory, else under the first root that
    /// has it, else `path` unchanged (the error then names the path as configured).
    public func locate(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        for root in roots {
            let candidate = (root as NSString).appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return path
    }
}

extension ServerConfig {
    /// This configuration with its relative file paths located (`InstalledFiles.locate`).
    public func locatingFiles(_ files: InstalledFiles) -> ServerConfig {
        var config = self
        config.policyPath = files.locate(policyPath)
        config.openAPIPath = files.locate(openAPIPath)
        config.dashboardDirectory = files.locate(dashboardDirectory)
        config.modelPath = files.locate(modelPath)
        config.anomalyPath = anomalyPath.map(files.locate)
        config.modelDirectory = modelDirectory.map(files.locate)
        config.tlsCertificatePath = tlsCertificatePath.map(files.locate)
        config.tlsKeyPath = tlsKeyPath.map(files.locate)
        config.calibrationPath = calibrationPath.map { $0 == "none" ? $0 : files.locate($0) }
        config.referencePaths = referencePaths.mapValues(files.locate)
        return config
    }
}
