// Both engines upgrade through the same numbered migrations: a migration added to one and
// not the other would leave a MySQL line and a SQLite line with different histories.

import Foundation
@testable import Storage
import Testing

@Suite struct SchemaMigrationTests {
    @Test func sqliteAndMySQLHaveTheSameMigrationsInTheSameOrder() {
        let sqlite = SQLiteSchema.migrations.map(\.id)
        let mysql = MySQLSchema.migrations.map(\.id)
        #expect(sqlite == mysql)
        #expect(!sqlite.isEmpty)
        // Numbered from 001 without gaps, so "the latest" means the same on both.
        for (index, id) in sqlite.enumerated() {
            #expect(id.hasPrefix(String(format: "%03d_", index + 1)), "migration \(index + 1) is named \(id)")
        }
    }

    @Test func storedAnomalyMapKeepsItsColumnFormat() throws {
        let map = StoredAnomalyMap(score: 12.5, threshold: 10, fired: true, gridWidth: 2, gridHeight: 1, originX: -1.5, originY: 3,
                                   cellWidth: 8, cellHeight: 8.25, cells: [1.5, 14.2])
        let text = map.jsonText
        // The keys rows written by earlier versions carry: the format is the database's, not a type's.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["score", "threshold", "fired", "grid_width", "grid_height", "x0", "y0", "cell_w", "cell_h", "map"])
        #expect(StoredAnomalyMap(jsonText: text) == map)
        let older = #"{"score":3,"threshold":4,"fired":false,"grid_width":1,"grid_height":1,"x0":0,"y0":0,"cell_w":16,"cell_h":16,"map":[2.5]}"#
        #expect(StoredAnomalyMap(jsonText: older)?.cells == [2.5])
        #expect(StoredAnomalyMap(jsonText: "not json") == nil)
        #expect(StoredAnomalyMap(jsonText: nil) == nil)
    }
}
