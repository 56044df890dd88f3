// Liveness of the configured cameras: when each one's last frame arrived and how often
// frames come. Fed by `/predict`, read by `/api/system-status` and `/health`.

import Foundation
import Inspection
import Synchronization

/// Last-seen times and a frame-rate estimate per camera.
final class CameraRegistry: Sendable {
    struct Sighting: Sendable {
        var lastSeen: ContinuousClock.Instant
        var lastSeenDate: Date
        /// Exponentially smoothed frames per second.
        var framesPerSecond: Double
        var frames: Int
    }

    let cameras: [String]
    private let sightings = Mutex<[String: Sighting]>([:])

    init(cameras: [String]) {
        self.cameras = cameras
    }

    func isConfigured(_ cameraId: String) -> Bool { cameras.contains(cameraId) }

    /// The board side a camera films: `left`/`right` by name, else the first configured
    /// camera is left and the second right; others take no part in pairing.
    func side(of cameraId: String) -> BoardSide? {
        if let side = BoardSide(rawValue: cameraId) { return side }
        switch cameras.firstIndex(of: cameraId) {
        case 0: return .left
        case 1: return .right
        default: return nil
        }
    }

    /// The first configured camera that films `side`, nil when none does.
    func camera(on side: BoardSide) -> String? {
        cameras.first { self.side(of: $0) == side }
    }

    /// Records a frame from `cameraId`.
    func frameArrived(from cameraId: String) {
        let now = ContinuousClock.Instant.now
        sightings.withLock { table in
            if var sighting = table[cameraId] {
                let gap = (now - sighting.lastSeen).milliseconds / 1000
                if gap > 0 {
                    let instant = 1 / gap
                    sighting.framesPerSecond = sighting.frames == 1 ? instant : 0.8 * sighting.framesPerSecond + 0.2 * instant
                }
                sighting.lastSeen = now
                sighting.lastSeenDate = Date()
                sighting.frames += 1
                table[cameraId] = sighting
            } else {
                table[cameraId] = Sighting(lastSeen: now, lastSeenDate: Date(), framesPerSecond: 0, frames: 1)
            }
        }
    }

    /// Seconds since the camera's last frame, nil if it never sent one.
    func secondsSinceLastFrame(_ cameraId: String) -> Double? {
        sightings.withLock { $0[cameraId] }.map { (ContinuousClock.Instant.now - $0.lastSeen).milliseconds / 1000 }
    }

    func sighting(_ cameraId: String) -> Sighting? { sightings.withLock { $0[cameraId] } }

    /// Online when a frame arrived within `window` seconds.
    func isOnline(_ cameraId: String, window: Double) -> Bool {
        guard let age = secondsSinceLastFrame(cameraId) else { return false }
        return age <= window
    }
}
