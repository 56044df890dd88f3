import Inspection
import Testing
@testable import InspectionServer

@Suite struct ServerConfigTests {
    @Test func defaultsMatchTheContract() throws {
        let config = try ServerConfig.load(fileText: nil, environment: [:], flags: [:])
        #expect(config.host == "0.0.0.0")
        #expect(config.port == 5000)
        #expect(config.dataDirectory == "./var")
        #expect(config.modelPath == ServerConfig.bundledModelPath)
        #expect(config.effectiveDatabaseURL == "sqlite:./var/pcb.sqlite")
        #expect(config.cameras == ["left", "right"])
        #expect(config.apiToken == nil)
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        let file = """
            port: 6000
            data_dir: /srv/file
            cameras: [top, bottom]
            api_token: from-file
            """
        let environment = ["PCB_PORT": "7000", "PCB_API_TOKEN": "from-env", "PCB_SOMETHING_ELSE": "ignored", "HOME": "/root"]
        let config = try ServerConfig.load(fileText: file, environment: environment, flags: ["port": "8000"])
        #expect(config.port == 8000)
        #expect(config.apiToken == "from-env")
        #expect(config.dataDirectory == "/srv/file")
        #expect(config.cameras == ["top", "bottom"])
    }

    @Test func shippedConfigFileLoads() throws {
        let root = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let text = try String(contentsOfFile: "/" + root + "/configs/server.yaml", encoding: .utf8)
        let config = try ServerConfig.load(fileText: text, environment: [:], flags: [:])
        #expect(config.port == 5000)
        #expect(config.queueCapacity == 8)
    }

    @Test func mistakesNameTheirSource() {
        func message(_ body: () throws -> ServerConfig) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        #expect(message { try ServerConfig.load(fileText: "prot: 1", fileName: "server.yaml", environment: [:], flags: [:]) }
            .contains("server.yaml: unknown setting 'prot'"))
        #expect(message { try ServerConfig.load(fileText: nil, environment: ["PCB_PORT": "http"], flags: [:]) }
            .contains("environment PCB_PORT: port: expected a whole number"))
        #expect(message { try ServerConfig.load(fileText: nil, environment: [:], flags: ["log_level": "loud"]) }
            .contains("--log-level: log_level: expected"))
        #expect(message { try ServerConfig.load(fileText: "port: [", environment: [:], flags: [:]) }.contains("not valid YAML"))
    }

    @Test func labellingRatesComeFromEveryLayerAndAreChecked() throws {
        let config = try ServerConfig.load(fileText: "label_near_margin: 0.05\nlabel_max_per_day: 50", environment: ["PCB_LABEL_NORMAL_SHARE": "0.1"],
                                           flags: [:])
        #expect(config.labelling == LabellingRule(nearMargin: 0.05, normalShare: 0.1, maxPerDay: 50))
        #expect(ServerConfig().labelling == .standard)
        #expect(throws: ConfigError.self) { try ServerConfig.load(fileText: nil, environment: [:], flags: ["label_normal_share": "2"]) }
        #expect(throws: ConfigError.self) { try ServerConfig.load(fileText: nil, environment: [:], flags: ["label_near_margin": "-0.1"]) }
    }

    @Test func precisionIsOneOfTheKnownFormats() throws {
        #expect(ServerConfig().precision == "auto")
        #expect(try ServerConfig.load(fileText: "precision: BF16", environment: [:], flags: [:]).precision == "bf16")
        #expect(try ServerConfig.load(fileText: nil, environment: ["PCB_PRECISION": "auto"], flags: [:]).precision == "auto")
        #expect(try ServerConfig.load(fileText: nil, environment: [:], flags: ["precision": "int8"]).precision == "int8")
        #expect(throws: ConfigError.self) { try ServerConfig.load(fileText: nil, environment: [:], flags: ["precision": "int4"]) }
    }

    @Test func loopbackBindIsRecognised() {
        var config = ServerConfig()
        #expect(!config.bindsLoopbackOnly)
        config.host = "127.0.0.1"
        #expect(config.bindsLoopbackOnly)
    }
}
