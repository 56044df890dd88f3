// The schema, as numbered migrations shared in meaning by every engine.
//
// 001: the seed's tables (inspections, system_config with its default rows, system_logs,
//      defect_images) and indexes.
// 002: boards, and the line's columns on inspections (category code, capture time,
//      request id for retries, board link, model time).
// 003: inspection_daily_counts, the count per local day and category, kept in the same
//      transaction as each insert, so statistics over any range read days, not rows.
// 004: the anomaly model's score of each inspection, and its map for non-normal ones.
// 005: provenance: the model, calibration, policy and server version of each verdict.
// 006: operator reviews (appended, never overwriting a verdict) and the labelling reason of
//      frames kept for retraining.
// A migration, once released, is never edited: a change is a new number.

/// `system_config` rows the seed ships with.
public let seedSystemConfig: [(key: String, value: String, description: String)] = [
    ("server_url", "http://0.0.0.0:5000", "Inspection server URL the cameras post to"),
    ("fps", "10", "Camera frames per second"),
    ("jpeg_quality", "85", "Camera JPEG quality"),
    ("defect_threshold", "0.70", "Confidence above which a defect is reported to operators"),
    ("gpio_duration_ms", "500", "Default GPIO pulse length"),
    ("max_image_retention_days", "90", "Days defect images are kept"),
    ("alert_defect_rate_threshold", "10.0", "Defect rate (percent) that raises an alert"),
]

/// SQLite statements of each numbered migration.
enum SQLiteSchema {
    static let migrations: [(id: String, sql: String)] = [
        ("001_seed_schema", """
            CREATE TABLE inspections (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                camera_id TEXT NOT NULL,
                defect_type TEXT NOT NULL,
                confidence REAL,
                inspection_time TEXT NOT NULL,
                image_path TEXT,
                boxes TEXT,
                gpio_pin INTEGER,
                gpio_duration_ms INTEGER,
                user_id INTEGER,
                notes TEXT
            );
            CREATE INDEX idx_inspections_time ON inspections(inspection_time);
            CREATE INDEX idx_inspections_type ON inspections(defect_type);
            CREATE INDEX idx_inspections_camera ON inspections(camera_id);
            CREATE TABLE system_config (
                config_key TEXT PRIMARY KEY,
                config_value TEXT,
                description TEXT,
                updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now', 'localtime'))
            );
            CREATE TABLE system_logs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                log_level TEXT NOT NULL,
                source TEXT,
                message TEXT NOT NULL,
                details TEXT,
                created_at TEXT NOT NULL
            );
            CREATE INDEX idx_system_logs_created ON system_logs(created_at);
            CREATE TABLE defect_images (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                inspection_id INTEGER NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
                image_path TEXT NOT NULL,
                file_size INTEGER,
                created_at TEXT NOT NULL
            );
            CREATE INDEX idx_defect_images_inspection ON defect_images(inspection_id);
            """),
        ("002_boards_and_line_columns", """
            CREATE TABLE boards (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                board_key TEXT NOT NULL,
                category TEXT NOT NULL,
                defect_type TEXT NOT NULL,
                confidence REAL,
                gpio_pin INTEGER,
                gpio_duration_ms INTEGER,
                decided_at TEXT NOT NULL,
                left_inspection_id INTEGER REFERENCES inspections(id),
                right_inspection_id INTEGER REFERENCES inspections(id),
                fail_safe INTEGER NOT NULL DEFAULT 0,
                note TEXT
            );
            CREATE INDEX idx_boards_decided ON boards(decided_at);
            CREATE INDEX idx_boards_key ON boards(board_key);
            ALTER TABLE inspections ADD COLUMN category TEXT NOT NULL DEFAULT 'normal';
            ALTER TABLE inspections ADD COLUMN capture_time TEXT;
            ALTER TABLE inspections ADD COLUMN request_id TEXT;
            ALTER TABLE inspections ADD COLUMN board_id INTEGER REFERENCES boards(id);
            ALTER TABLE inspections ADD COLUMN inference_time_ms REAL;
            CREATE UNIQUE INDEX idx_inspections_request ON inspections(request_id);
            CREATE INDEX idx_inspections_time_category ON inspections(inspection_time, category);
            """),
        ("003_daily_counts", """
            CREATE TABLE inspection_daily_counts (
                day TEXT NOT NULL,
                category TEXT NOT NULL,
                n INTEGER NOT NULL,
                PRIMARY KEY (day, category)
            ) WITHOUT ROWID;
            INSERT INTO inspection_daily_counts (day, category, n)
                SELECT substr(inspection_time, 1, 10), category, COUNT(*) FROM inspections GROUP BY 1, 2;
            """),
        ("004_anomaly_score", """
            ALTER TABLE inspections ADD COLUMN anomaly_score REAL;
            ALTER TABLE inspections ADD COLUMN anomaly_map TEXT;
            """),
        ("005_provenance", """
            ALTER TABLE inspections ADD COLUMN model_id TEXT;
            ALTER TABLE inspections ADD COLUMN calibration_id TEXT;
            ALTER TABLE inspections ADD COLUMN policy_id TEXT;
            ALTER TABLE inspections ADD COLUMN server_version TEXT;
            ALTER TABLE boards ADD COLUMN model_id TEXT;
            ALTER TABLE boards ADD COLUMN calibration_id TEXT;
            ALTER TABLE boards ADD COLUMN policy_id TEXT;
            ALTER TABLE boards ADD COLUMN server_version TEXT;
            CREATE INDEX idx_inspections_model ON inspections(model_id);
            """),
        ("006_reviews_and_labelling", """
            CREATE TABLE reviews (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                subject_kind TEXT NOT NULL,
                subject_id INTEGER NOT NULL,
                machine_category TEXT NOT NULL,
                verdict TEXT NOT NULL,
                classes TEXT,
                note TEXT,
                operator TEXT NOT NULL,
                item_day TEXT NOT NULL,
                reviewed_at TEXT NOT NULL
            );
            CREATE INDEX idx_reviews_subject ON reviews(subject_kind, subject_id);
            CREATE INDEX idx_reviews_day ON reviews(item_day);
            ALTER TABLE inspections ADD COLUMN label_reason TEXT;
            CREATE INDEX idx_inspections_label ON inspections(label_reason, id);
            """),
    ]

    /// Counts one more inspection on its day (same transaction as the insert).
    static let countInspection = """
        INSERT INTO inspection_daily_counts (day, category, n) VALUES (?, ?, ?)
        ON CONFLICT (day, category) DO UPDATE SET n = n + excluded.n
        """
}
