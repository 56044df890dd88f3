// The heat map of a stored inspection: its anomaly map (kept as JSON in the history) blended
// in red over the image the camera sent, cells from half the threshold up, stronger as they
// rise. Served by `/api/anomaly-maps/{id}`.

import ImageKit
import Storage

enum AnomalyOverlay {
    /// `image` with `map` blended over it.
    static func render(_ image: RGBImage, _ map: StoredAnomalyMap) -> RGBImage {
        var out = image
        for gy in 0..<map.gridHeight {
            for gx in 0..<map.gridWidth {
                let index = gy * map.gridWidth + gx
                guard index < map.cells.count, map.threshold > 0 else { continue }
                let alpha = min(0.6, max(0, (map.cells[index] - map.threshold / 2) / map.threshold))
                guard alpha > 0 else { continue }
                let x0 = max(0, Int((map.originX + Double(gx) * map.cellWidth).rounded()))
                let x1 = min(image.width, Int((map.originX + Double(gx + 1) * map.cellWidth).rounded()))
                let y0 = max(0, Int((map.originY + Double(gy) * map.cellHeight).rounded()))
                let y1 = min(image.height, Int((map.originY + Double(gy + 1) * map.cellHeight).rounded()))
                guard x0 < x1, y0 < y1 else { continue }
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let i = (y * image.width + x) * 3
                        out.pixels[i] = UInt8(Double(out.pixels[i]) * (1 - alpha) + 255 * alpha)
                        out.pixels[i + 1] = UInt8(Double(out.pixels[i + 1]) * (1 - alpha) + 40 * alpha)
                        out.pixels[i + 2] = UInt8(Double(out.pixels[i + 2]) * (1 - alpha) + 30 * alpha)
                    }
                }
            }
        }
        return out
    }
}
