// `mysql://user:password@host:3306/database`: where the MySQL/MariaDB store connects.

import Foundation

/// A parsed MySQL connection URL.
public struct MySQLURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String
    public var host: String
    public var port: Int
    public var database: String

    /// Parses `mysql://user[:password]@host[:port]/database` (percent-escapes allowed in user and password).
    public init(_ text: String) throws(StoreError) {
        guard text.hasPrefix("mysql://"), let components = URLComponents(string: text),
              let host = components.host, !host.isEmpty else {
            throw .invalidArgument("database '\(Self.redacted(text))': expected mysql://user:password@host:3306/database")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidArgument("database '\(Self.redacted(text))': the URL must name a database, e.g. mysql://pcb:secret@db:3306/pcb_inspection")
        }
        guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw .invalidArgument("database '\(Self.redacted(text))': the URL must name a user")
        }
        self.user = user
        self.password = components.percentEncodedPassword?.removingPercentEncoding ?? ""
        self.host = host
        self.port = components.port ?? 3306
        self.database = database
    }

    /// The URL without its password, for logs.
    public var description: String { "mysql://\(user):***@\(host):\(port)/\(database)" }

    /// `text` with any URL password replaced by `***`, for logs and error messages.
    public static func redacted(_ text: String) -> String {
        text.replacingOccurrences(of: #"([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):[^@]*@"#, with: "$1:***@", options: .regularExpression)
    }
}
