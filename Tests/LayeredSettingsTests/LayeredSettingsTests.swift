import LayeredSettings
import Testing

/// A configuration of two keys, to test the loader alone.
private struct Example: Equatable {
    var name = "default"
    var tags: [String] = []
    var count = 1
}

private let table = SettingsTable<Example>(
    keys: [
        "name": .value { $0.name = $1 },
        "tags": .list { $0.tags = SettingValue.list($1) },
        "count": .value { $0.count = try SettingValue.integer($1, 1...9) },
    ],
    environmentPrefix: "EX_", skipsUnknownEnvironment: false, flagSpelling: { "--" + $0 })

private func message(_ body: () throws -> Example) -> String {
    do { _ = try body(); return "no error" } catch { return "\(error)" }
}

@Suite struct LayeredSettingsTests {
    @Test func laterLayersWin() throws {
        let file = "name: from-file\ntags: [a, b]\ncount: 2\n"
        let loaded = try table.load(Example(), fileText: file, fileName: "ex.yaml", environment: ["EX_COUNT": "3", "OTHER": "x"],
                                    flags: ["name": "from-flag"])
        #expect(loaded == Example(name: "from-flag", tags: ["a", "b"], count: 3))
        // Null and empty file values keep the default.
        #expect(try table.load(Example(), fileText: "name: ~\ncount:\n", fileName: "ex.yaml", environment: [:], flags: [:]) == Example())
    }

    @Test func everyMistakeNamesItsLayer() {
        #expect(message { try table.load(Example(), fileText: "cuont: 2", fileName: "ex.yaml", environment: [:], flags: [:]) }
            .hasPrefix("ex.yaml: unknown setting 'cuont' (known: count, name, tags)"))
        #expect(message { try table.load(Example(), fileText: nil, fileName: "", environment: ["EX_COUNT": "12"], flags: [:]) }
            == "environment EX_COUNT: count: expected a whole number in 1...9, got '12'")
        #expect(message { try table.load(Example(), fileText: nil, fileName: "", environment: [:], flags: ["count": "x"]) }
            == "--count: count: expected a whole number in 1...9, got 'x'")
        // A list where one value belongs, and a mapping where a value belongs, are refused.
        #expect(message { try table.load(Example(), fileText: "name: [a, b]", fileName: "ex.yaml", environment: [:], flags: [:]) }
            .contains("ex.yaml line 1: name must be a single value"))
        #expect(message { try table.load(Example(), fileText: "tags: {a: 1}", fileName: "ex.yaml", environment: [:], flags: [:]) }
            .contains("tags must be a value or a list"))
        #expect(message { try table.load(Example(), fileText: "- a", fileName: "ex.yaml", environment: [:], flags: [:]) }
            == "ex.yaml: the top level must be a mapping")
        #expect(message { try table.load(Example(), fileText: "name: [", fileName: "ex.yaml", environment: [:], flags: [:]) }
            .hasPrefix("ex.yaml: not valid YAML"))
    }

    @Test func unknownEnvironmentVariablesAreRefusedOrSkippedAsTheTableSays() throws {
        #expect(message { try table.load(Example(), fileText: nil, fileName: "", environment: ["EX_COLOUR": "red"], flags: [:]) }
            .hasPrefix("environment EX_COLOUR: unknown setting 'colour'"))
        let lenient = SettingsTable<Example>(keys: table.keys, environmentPrefix: "EX_", skipsUnknownEnvironment: true,
                                             flagSpelling: { $0 })
        #expect(try lenient.load(Example(), fileText: nil, fileName: "", environment: ["EX_COLOUR": "red"], flags: [:]) == Example())
    }

    @Test func sharedValueParsers() throws {
        #expect(try SettingValue.boolean("Yes") && !(try SettingValue.boolean("off")))
        #expect(throws: SettingsError.self) { try SettingValue.boolean("maybe") }
        #expect(try SettingValue.number("0.5", 0...1) == 0.5)
        #expect(try SettingValue.logLevel("debug") == "debug")
        #expect(throws: SettingsError.self) { try SettingValue.logLevel("loud") }
        #expect(SettingValue.list(" a, ,b ,") == ["a", "b"])
    }
}
