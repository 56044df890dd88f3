import Testing
@testable import EdgeClient

@Suite struct CameraConfigTests {
    @Test func seedFlagsOverrideTheFileAndTheEnvironment() throws {
        let file = """
            camera_id: right
            server_url: http://10.0.0.1:5000
            fps: 5
            gpio: dry-run
            """
        let config = try CameraConfig.load(fileText: file, environment: ["PCB_CAMERA_FPS": "7", "PCB_PORT": "9"],
                                           flags: ["camera_id": "left", "camera_index": "2", "server_url": "http://192.168.0.10:5000"])
        #expect(config.cameraId == "left")
        #expect(config.cameraIndex == 2)
        #expect(config.devicePath == "/dev/video2")
        #expect(config.serverURL == "http://192.168.0.10:5000")
        #expect(config.fps == 7)
        #expect(config.gpio == .dryRun)
        #expect(config.effectiveWaitForBoard)
    }

    @Test func defaultsAreTheSeeds() throws {
        let config = try CameraConfig.load(fileText: nil, environment: [:], flags: [:])
        #expect(config.width == 640 && config.height == 480 && config.jpegQuality == 85)
        #expect(config.timeoutSeconds == 5 && config.fps == 10)
        #expect(config.gpio == .off && !config.effectiveWaitForBoard)
    }

    @Test func theShippedFileLoads() throws {
        let text = try String(contentsOfFile: repositoryFile("configs/camera.yaml"), encoding: .utf8)
        let config = try CameraConfig.load(fileText: text, environment: [:], flags: [:])
        #expect(config.cameraId == "left")
        #expect(config.source == .v4l2)
    }

    @Test(arguments: [
        (["fps": "0"], "fps"), (["fps": "ten"], "fps"), (["server_url": "192.168.0.10:5000"], "server_url"),
        (["gpio": "pin17"], "gpio"), (["source": "webcam"], "source"), (["colour": "red"], "unknown setting 'colour'"),
        (["source": "folder"], "folder"), (["width": "641"], "even"),
    ])
    func badValuesAreRefusedByName(flags: [String: String], mention: String) {
        #expect {
            _ = try CameraConfig.load(fileText: nil, environment: [:], flags: flags)
        } throws: { error in
            String(describing: error).contains(mention)
        }
    }

    @Test func badYAMLNamesTheFile() {
        #expect {
            _ = try CameraConfig.load(fileText: "fps: [1, 2]", fileName: "cam.yaml", environment: [:], flags: [:])
        } throws: { error in
            String(describing: error).contains("cam.yaml")
        }
    }
}

/// A file of the repository, found from this source file's path.
func repositoryFile(_ path: String) -> String {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
        url.deleteLastPathComponent()
    }
    return url.appendingPathComponent(path).path
}

import Foundation
