// The anomaly map as the history keeps it: the grid of per-cell distances and where the grid
// lies on the frame, so `/api/anomaly-maps/{id}` can draw it over the stored image long after
// the frame was inspected. Stored as JSON text in `inspections.anomaly_map`; the keys are the
// storage format, kept stable across versions (the dashboard has its own type).

import Foundation

/// An anomaly map ready to store: cell (gx, gy) covers frame pixels `originX + gx * cellWidth`
/// ... and `originY + gy * cellHeight` ...; `cells` holds the distances row by row.
public struct StoredAnomalyMap: Codable, Sendable, Equatable {
    public var score: Double
    public var threshold: Double
    public var fired: Bool
    public var gridWidth: Int
    public var gridHeight: Int
    public var originX: Double
    public var originY: Double
    public var cellWidth: Double
    public var cellHeight: Double
    public var cells: [Double]

    public init(score: Double, threshold: Double, fired: Bool, gridWidth: Int, gridHeight: Int, originX: Double, originY: Double,
                cellWidth: Double, cellHeight: Double, cells: [Double]) {
        self.score = score
        self.threshold = threshold
        self.fired = fired
        self.gridWidth = gridWidth
        self.gridHeight = gridHeight
        self.originX = originX
        self.originY = originY
        self.cellWidth = cellWidth
        self.cellHeight = cellHeight
        self.cells = cells
    }

    private enum CodingKeys: String, CodingKey {
        case score, threshold, fired
        case gridWidth = "grid_width", gridHeight = "grid_height"
        case originX = "x0", originY = "y0", cellWidth = "cell_w", cellHeight = "cell_h"
        case cells = "map"
    }

    /// The column text.
    public var jsonText: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Reads the column text; nil when it is absent or not a map (an older or damaged row).
    public init?(jsonText: String?) {
        guard let jsonText, let map = try? JSONDecoder().decode(StoredAnomalyMap.self, from: Data(jsonText.utf8)) else { return nil }
        self = map
    }
}
