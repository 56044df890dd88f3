// The heat map of a stored inspection: its anomaly map (kept as JSON in the history) blended
// in red over the image the camera sent, cells from half the threshold up, stronger as they
// rise. Served by `/api/anomaly-maps/{id}`.

import ImageKit

enum AnomalyOverlay {
    /// `image` with `map` blended over it.
    static func render(_ image: RGBImage, _ map: LiveAnomaly) -> RGBImage {
        var out = image
        for gy in 0..<map.grid_height {
            for gx in 0..<map.grid_width {
                let index = gy * map.grid_width + gx
                guard index < map.map.count, map.threshold > 0 else { continue }
                let alpha = min(0.6, max(0, (map.map[index] - map.threshold / 2) / map.threshold))
                guard alpha > 0 else { continue }
                let x0 = max(0, Int((map.x0 + Double(gx) * map.cell_w).rounded()))
                let x1 = min(image.width, Int((map.x0 + Double(gx + 1) * map.cell_w).rounded()))
                let y0 = max(0, Int((map.y0 + Double(gy) * map.cell_h).rounded()))
                let y1 = min(image.height, Int((map.y0 + Double(gy + 1) * map.cell_h).rounded()))
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
