// What is on the board: the scene a render draws. Generated from the layout seed alone;
// defects modify a copy of it (a part left off, a joint gone cold) and add their own marks.

import Foundation

enum SurfaceFinish { case hasl, enig, osp }

/// Colours and materials of one board and its surroundings.
struct BoardStyle {
    var mask: Colour
    /// Solder mask seen over copper (traces and pours look lighter through the mask).
    var maskOverCopper: Colour
    /// Bare laminate (FR4) seen where the mask is opened without copper.
    var laminate: Colour
    var silk: Colour
    var finish: SurfaceFinish
    var finishColour: Colour
    var solder: Colour
    /// Conveyor belt or fixture seen beyond the board edge.
    var background: Colour
    var backgroundIsMetal: Bool
    var tentedVias: Bool
    /// How strongly trace edges catch the light through the mask (relief).
    var relief: Float
    var textureSeed: UInt32
    /// Light direction for shading and shadows (unit, image plane, pointing away from the light).
    var light: Vec2
}

struct Pad {
    var box: Box
    var round = false
    /// A pad with no part on it (test point, unpopulated footprint).
    var bare = false
    /// Mask opening beyond the copper, pixels.
    var opening: Float = 0.6
    var seed: UInt64 = 0

    var shape: any Shape { round ? CircleShape(center: box.center, radius: box.width / 2) : RectShape(box, radius: min(box.width, box.height) * 0.12) }
}

enum JointState: Equatable { case good, cold, insufficient }

/// Where a part's terminal sits on a pad and solder wets both.
struct Joint {
    var pad: Int
    /// The terminal (end cap, lead foot) area over the pad.
    var terminal: Box
    /// Unit direction from the part's body towards the pad's outer end.
    var outward: Vec2
    var state: JointState = .good
    var seed: UInt64 = 0
}

/// A gull-wing or flat lead of a packaged part, seen from above.
struct Lead {
    var shoulder: Box
    var foot: Box
    var outward: Vec2
    var joint: Int
}

enum ChipKind: CaseIterable { case resistor, capacitor, inductor, ferrite }

enum ICPackage { case soic, tssop, qfp }

enum PartKind {
    case chip(ChipKind)
    case ic(ICPackage)
    case sot23
    case sod123
    case electrolytic
    case header(rows: Int, columns: Int)
    case crystal
    case tantalum
    case led
}

struct Part {
    var kind: PartKind
    var body: Box
    var pads: [Int] = []
    var joints: [Joint] = []
    var leads: [Lead] = []
    var present = true
    /// Missing-part style when `present` is false.
    var missingStyle = 0
    var seed: UInt64
    var refdes: String
    /// Long axis vertical.
    var vertical: Bool
    /// Pin 1 / polarity end (world position), if the part has one.
    var pin1: Vec2? = nil
    /// Height above the board in millimetres (shadow length).
    var heightMM: Float
    /// Body plus pads.
    var footprint: Box

    var isSmallPart: Bool {
        switch kind {
        case .chip, .sot23, .sod123, .tantalum, .led: return true
        case .ic(let p): return p == .soic && footprint.width * footprint.height < 9000
        default: return false
        }
    }
}

struct Trace {
    var points: [Vec2]
    var width: Float
    var radius: Float { width / 2 }
}

struct Via {
    var center: Vec2
    var radius: Float
    var drill: Float
}

struct Fiducial {
    var center: Vec2
    var radius: Float
    var clearance: Float
}

struct MountingHole {
    var center: Vec2
    var drill: Float
    var ring: Float
}

struct SilkStroke {
    var points: [Vec2]
    var width: Float
}

/// Everything drawn on one board, in canvas pixels.
struct BoardLayout {
    var canvasWidth: Int
    var canvasHeight: Int
    /// The region the camera sees with no jitter.
    var view: Box
    /// Where a defect stays fully in view under any camera jitter.
    var safe: Box
    var pixelsPerMM: Float
    var style: BoardStyle
    /// The board (its outline may cross the view).
    var board: Box
    var boardCorner: Float
    var pads: [Pad] = []
    var parts: [Part] = []
    var traces: [Trace] = []
    var vias: [Via] = []
    var fiducials: [Fiducial] = []
    var holes: [MountingHole] = []
    var pours: [[Vec2]] = []
    var pourClearance: Float = 4
    var silk: [SilkStroke] = []
    var silkDots: [(Vec2, Float)] = []
    /// Areas covered by silkscreen ink (for keeping defects clear of it).
    var silkBoxes: [Box] = []
    /// Small non-defect distractors: dust, fibres, flux stains.
    var dust: [(Vec2, Float, UInt64)] = []
}
