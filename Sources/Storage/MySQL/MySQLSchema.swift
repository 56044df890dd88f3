// The MySQL/MariaDB statements of each numbered migration (same numbers and meaning as
// `SQLiteSchema`): the seed's schema with utf8mb4, DECIMAL(5,4) confidence, JSON boxes and
// details, DATETIME(6) times, InnoDB. MySQL commits each DDL statement by itself, so a
// migration is recorded in `schema_migrations` only after all its statements ran, and every
// statement is written to be safe to run again after an interruption.

enum MySQLSchema {
    static let table = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"

    /// Errors that mean a re-run statement already took effect: table, column or index exists.
    static let alreadyApplied: Set<UInt32> = [1050, 1060, 1061]

    static let migrations: [(id: String, statements: [String])] = [
        ("001_seed_schema", [
            """
            CREATE TABLE IF NOT EXISTS inspections (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                camera_id VARCHAR(32) NOT NULL,
                defect_type VARCHAR(32) NOT NULL,
                confidence DECIMAL(5,4),
                inspection_time DATETIME(6) NOT NULL,
                image_path VARCHAR(512),
                boxes JSON,
                gpio_pin INT,
                gpio_duration_ms INT,
                user_id INT,
                notes TEXT,
                INDEX idx_inspections_time (inspection_time),
                INDEX idx_inspections_type (defect_type),
                INDEX idx_inspections_camera (camera_id)
            ) \(table)
            """,
            """
            CREATE TABLE IF NOT EXISTS system_config (
                config_key VARCHAR(64) NOT NULL PRIMARY KEY,
                config_value VARCHAR(255),
                description VARCHAR(255),
                updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
            ) \(table)
            """,
            """
            CREATE TABLE IF NOT EXISTS system_logs (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                log_level VARCHAR(16) NOT NULL,
                source VARCHAR(64),
                message TEXT NOT NULL,
                details JSON,
                created_at DATETIME(6) NOT NULL,
                INDEX idx_system_logs_created (created_at)
            ) \(table)
            """,
            """
            CREATE TABLE IF NOT EXISTS defect_images (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                inspection_id BIGINT NOT NULL,
                image_path VARCHAR(512) NOT NULL,
                file_size BIGINT,
                created_at DATETIME(6) NOT NULL,
                INDEX idx_defect_images_inspection (inspection_id),
                CONSTRAINT fk_defect_images_inspection FOREIGN KEY (inspection_id) REFERENCES inspections(id) ON DELETE CASCADE
            ) \(table)
            """,
        ]),
        ("002_boards_and_line_columns", [
            """
            CREATE TABLE IF NOT EXISTS boards (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                board_key VARCHAR(128) NOT NULL,
                category VARCHAR(32) NOT NULL,
                defect_type VARCHAR(32) NOT NULL,
                confidence DECIMAL(5,4),
                gpio_pin INT,
                gpio_duration_ms INT,
                decided_at DATETIME(6) NOT NULL,
                left_inspection_id BIGINT,
                right_inspection_id BIGINT,
                fail_safe TINYINT(1) NOT NULL DEFAULT 0,
                note TEXT,
                INDEX idx_boards_decided (decided_at),
                INDEX idx_boards_key (board_key),
                CONSTRAINT fk_boards_left FOREIGN KEY (left_inspection_id) REFERENCES inspections(id),
                CONSTRAINT fk_boards_right FOREIGN KEY (right_inspection_id) REFERENCES inspections(id)
            ) \(table)
            """,
            """
            ALTER TABLE inspections
                ADD COLUMN category VARCHAR(32) NOT NULL DEFAULT 'normal',
                ADD COLUMN capture_time VARCHAR(64),
                ADD COLUMN request_id VARCHAR(128),
                ADD COLUMN board_id BIGINT,
                ADD COLUMN inference_time_ms DOUBLE
            """,
            "CREATE UNIQUE INDEX idx_inspections_request ON inspections(request_id)",
            "CREATE INDEX idx_inspections_time_category ON inspections(inspection_time, category)",
            "CREATE INDEX idx_inspections_board ON inspections(board_id)",
        ]),
        ("003_daily_counts", [
            """
            CREATE TABLE IF NOT EXISTS inspection_daily_counts (
                day DATE NOT NULL,
                category VARCHAR(32) NOT NULL,
                n BIGINT NOT NULL,
                PRIMARY KEY (day, category)
            ) \(table)
            """,
            // Rebuilt from the rows, so running it again after an interruption is harmless.
            "DELETE FROM inspection_daily_counts",
            """
            INSERT INTO inspection_daily_counts (day, category, n)
                SELECT DATE(inspection_time), category, COUNT(*) FROM inspections GROUP BY DATE(inspection_time), category
            """,
        ]),
        ("004_anomaly_score", [
            "ALTER TABLE inspections ADD COLUMN anomaly_score DOUBLE",
            "ALTER TABLE inspections ADD COLUMN anomaly_map MEDIUMTEXT",
        ]),
        ("005_provenance", [
            "ALTER TABLE inspections ADD COLUMN model_id VARCHAR(200), ADD COLUMN calibration_id VARCHAR(200), ADD COLUMN policy_id VARCHAR(200), ADD COLUMN server_version VARCHAR(40)",
            "ALTER TABLE boards ADD COLUMN model_id VARCHAR(200), ADD COLUMN calibration_id VARCHAR(200), ADD COLUMN policy_id VARCHAR(200), ADD COLUMN server_version VARCHAR(40)",
            "CREATE INDEX idx_inspections_model ON inspections(model_id)",
        ]),
        ("006_reviews_and_labelling", [
            """
            CREATE TABLE IF NOT EXISTS reviews (
                id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                subject_kind VARCHAR(16) NOT NULL,
                subject_id BIGINT NOT NULL,
                machine_category VARCHAR(32) NOT NULL,
                verdict VARCHAR(32) NOT NULL,
                classes JSON,
                note TEXT,
                operator VARCHAR(64) NOT NULL,
                item_day DATE NOT NULL,
                reviewed_at DATETIME(6) NOT NULL,
                INDEX idx_reviews_subject (subject_kind, subject_id),
                INDEX idx_reviews_day (item_day)
            ) \(table)
            """,
            "ALTER TABLE inspections ADD COLUMN label_reason VARCHAR(32)",
            "CREATE INDEX idx_inspections_label ON inspections(label_reason, id)",
        ]),
    ]

    /// Counts one more inspection on its day (same transaction as the insert).
    static let countInspection = """
        INSERT INTO inspection_daily_counts (day, category, n) VALUES (?, ?, ?)
        ON DUPLICATE KEY UPDATE n = n + VALUES(n)
        """
}
