// swift-tools-version: 6.2
// The PCB inspection line: one package, one command-line program `pcb`.
// Module map and layering: docs/ARCHITECTURE.md.
import PackageDescription

/// Numeric modules are built for a baseline CPU, never for the build machine, so a binary runs
/// on any machine of that baseline: on x86-64 `haswell`, which is x86-64-v3 (AVX2, FMA, BMI2,
/// F16C, MOVBE; Swift's clang importer knows no `x86-64-v3`) for the code a compiler generates
/// (without a CPU target x86-64 has no FMA and SIMD multiply-adds become library calls); arm64
/// has NEON anyway. Kernels that need more (AVX-512) are in CKernels, chosen at run time
/// (NeuralEngine/Kernels/KernelDispatch.swift). Checked arithmetic and bounds stay on everywhere,
/// parsers included: `-Ounchecked` measured no faster once the convolution's micro-kernel moved
/// to CKernels (docs/PERFORMANCE.md, "Runtime CPU dispatch").
#if arch(x86_64)
let baselineCPU = ["-target-cpu", "haswell"]
#else
let baselineCPU: [String] = []
#endif
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-wmo"] + baselineCPU, .when(configuration: .release)),
]

let package = Package(
    name: "pcb-inspection",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pcb", targets: ["pcb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C libraries, each wrapped by exactly one Swift module.
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),

        // The one seeded generator (SplitMix64): renders, splits, k-means starts, benchmark inputs.
        .target(name: "SeededRandom"),
        // Logs (standard output, rotating file) and the one percentile definition, for every process.
        .target(name: "Telemetry", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // The one layered settings loader (defaults < YAML file < environment < flags) of `serve` and `camera`.
        .target(name: "LayeredSettings", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Domain: defect policy, verdicts, board pairing. No I/O.
        .target(name: "Inspection", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Pixels: JPEG decode/encode, resize, letterbox, drawing.
        .target(name: "ImageKit", dependencies: ["CTurboJPEG"], swiftSettings: numericSettings),
        // Kernels that need more than the baseline CPU (AVX-512), compiled per function with
        // target attributes and chosen at run time; always optimised (also in debug builds).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Our ONNX inference engine: protobuf reader, graph, op kernels, executor.
        // OpenBLAS is loaded at run time (Kernels/BLAS.swift), so nothing links it.
        .target(name: "NeuralEngine", dependencies: ["CKernels"], swiftSettings: numericSettings),
        // The serving path: detectors behind one protocol (YOLO on NeuralEngine, PaDiM beside it,
        // fakes in tests): letterbox, decode, NMS, anomaly scoring, model metadata.
        .target(name: "Detection", dependencies: ["Inspection", "ImageKit", "NeuralEngine", "SeededRandom"], swiftSettings: numericSettings),
        // Offline tools around the detectors: evaluation (mAP, verdicts, reports), YOLO datasets,
        // the DeepPCB importer, PaDiM fitting. Linked by `pcb`, never by the server.
        .target(name: "DetectionTools", dependencies: [
            "Detection", "Inspection", "ImageKit", "NeuralEngine", "SeededRandom", .product(name: "Yams", package: "Yams"),
        ], swiftSettings: numericSettings),
        // Synthetic PCB boards with injected defects (datasets, virtual cameras).
        .target(name: "Simulation", dependencies: ["Inspection", "ImageKit", "SeededRandom"], swiftSettings: numericSettings),
        // Linux kernel interfaces of the camera side (GPIO character device, V4L2), as C calls.
        .target(name: "CLinuxIO"),
        // The camera side (runs on each Raspberry Pi): frame sources, uploader, pacing, GPIO.
        .target(name: "EdgeClient", dependencies: [
            "Inspection", "ImageKit", "Simulation", "CLinuxIO", "Telemetry", "LayeredSettings", "SeededRandom",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Inspection history: SQLite (GRDB) and MySQL/MariaDB stores, migrations, image files.
        .target(name: "Storage", dependencies: ["Inspection", "Telemetry", "CMariaDB", .product(name: "GRDB", package: "GRDB.swift")]),
        // The HTTP server: routes, inference worker, configuration.
        .target(name: "InspectionServer", dependencies: [
            "Inspection", "ImageKit", "Detection", "NeuralEngine", "Storage", "Telemetry", "LayeredSettings",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The command-line program: argument parsing only.
        .executableTarget(name: "pcb", dependencies: [
            "InspectionServer", "Detection", "DetectionTools", "Inspection", "ImageKit", "Storage", "NeuralEngine", "Simulation",
            "EdgeClient", "SeededRandom", "Telemetry", "CKernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),

        .testTarget(name: "InspectionTests", dependencies: ["Inspection"]),
        .testTarget(name: "ImageKitTests", dependencies: ["ImageKit"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"]),
        .testTarget(name: "LayeredSettingsTests", dependencies: ["LayeredSettings"]),
        .testTarget(name: "NeuralEngineTests", dependencies: ["NeuralEngine", "SeededRandom"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "ImageKit", "Inspection", "NeuralEngine", "Simulation", "SeededRandom"]),
        .testTarget(name: "DetectionToolsTests", dependencies: ["DetectionTools", "Detection", "ImageKit", "Inspection", "NeuralEngine"]),
        .testTarget(name: "EdgeClientTests", dependencies: [
            "EdgeClient", "Inspection", "ImageKit",
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "ImageKit", "Inspection"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Inspection"]),
        // Runs the real `pcb` binary (built by `swift build --build-tests`) on a fixture model.
        .testTarget(name: "EndToEndTests", dependencies: ["ImageKit", "NeuralEngine", "Detection"], exclude: [
            "seed_client.py", "db_outage_client.py", "full_disk_client.py", "hostile_clients.py", "reload_under_load.py", "seed_camera_client.py", "openapi_check.py", "dashboard_browser_check.py",
        ]),
        .testTarget(name: "InspectionServerTests", dependencies: [
            "InspectionServer", "Detection", "Inspection", "ImageKit", "Storage", "Simulation",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
        ]),
    ]
)
