// Procedural board layouts: style, outline, parts, routing with 45/90-degree traces, vias,
// copper pours and silkscreen. Pure function of the layout seed and the view geometry.

import Foundation
import SeededRandom

/// Quarter-turn rotation of local part coordinates.
private struct Quarter {
    var turns: Int
    func apply(_ v: Vec2) -> Vec2 {
        switch turns & 3 {
        case 0: return v
        case 1: return Vec2(-v.y, v.x)
        case 2: return Vec2(-v.x, -v.y)
        default: return Vec2(v.y, -v.x)
        }
    }
    func box(_ b: Box, at c: Vec2) -> Box {
        let p = apply(Vec2(b.x0, b.y0)), q = apply(Vec2(b.x1, b.y1))
        return Box(c.x + p.x, c.y + p.y, c.x + q.x, c.y + q.y)
    }
}

struct LayoutGenerator {
    private var rng: SplitMix64
    private var layout: BoardLayout
    private let s: Float
    /// Placement keep-outs (part footprints with a margin).
    private var partBlocks: [Box] = []
    /// Routing obstacles; `pad` is the pad index for pads.
    private var routeBlocks: [(box: Box, pad: Int?)] = []
    private var routeSegments: [(a: Vec2, b: Vec2, r: Float)] = []
    private let clearance: Float
    private let content: Box
    private var refCounters: [String: Int] = [:]

    init(seed: UInt64, width: Int, height: Int, margin: Int, pixelsPerMM: ClosedRange<Float>, safeInset: Vec2) {
        rng = SplitMix64(seed: seed)
        let s = rng.uniform(pixelsPerMM)
        self.s = s
        let cw = width + 2 * margin, ch = height + 2 * margin
        let view = Box(Float(margin), Float(margin), Float(margin + width), Float(margin + height))
        let safe = Box(view.x0 + safeInset.x, view.y0 + safeInset.y, view.x1 - safeInset.x, view.y1 - safeInset.y)
        let canvas = Box(0, 0, Float(cw), Float(ch))
        let style = LayoutGenerator.makeStyle(&rng)
        // Board outline: usually the board fills the view; sometimes an edge or a corner shows.
        var board = canvas.outset(400)
        var corner: Float = 0
        if rng.chance(0.28) {
            let sides = rng.chance(0.35) ? 2 : 1
            var chosen: [Int] = []
            while chosen.count < sides {
                let side = rng.int(0...3)
                if !chosen.contains(side) && !chosen.contains(side ^ 2) { chosen.append(side) }
            }
            for side in chosen {
                let fx = rng.uniform(0.03, 0.2)
                switch side {
                case 0: board.x0 = view.x0 + view.width * fx
                case 1: board.y0 = view.y0 + view.height * fx
                case 2: board.x1 = view.x1 - view.width * fx
                default: board.y1 = view.y1 - view.height * fx
                }
            }
            if sides == 2 { corner = rng.uniform(0, 4) * s }
        }
        layout = BoardLayout(canvasWidth: cw, canvasHeight: ch, view: view, safe: safe, pixelsPerMM: s, style: style,
                             board: board, boardCorner: corner)
        clearance = max(1.5, 0.2 * s)
        content = Box(max(board.x0, -60), max(board.y0, -60), min(board.x1, canvas.x1 + 60), min(board.y1, canvas.y1 + 60))
            .inset(1.2 * s)
    }

    // MARK: Style

    private static func makeStyle(_ rng: inout SplitMix64) -> BoardStyle {
        func jitter(_ c: Colour, _ amount: Float) -> Colour {
            Colour(c.x * (1 + rng.uniform(-amount, amount)), c.y * (1 + rng.uniform(-amount, amount)), c.z * (1 + rng.uniform(-amount, amount)))
        }
        let family = rng.weighted([0.52, 0.11, 0.11, 0.08, 0.1, 0.05, 0.03])
        let vis = rng.uniform(0.85, 1.3)
        var mask: Colour, over: Colour, relief: Float = rng.uniform(0.7, 1.4)
        var silk = Colour(0.93, 0.93, 0.9)
        switch family {
        case 0:  // green, from dark forest to bright
            mask = jitter(rng.pick([Colour(0.07, 0.29, 0.14), Colour(0.10, 0.36, 0.17), Colour(0.05, 0.22, 0.12), Colour(0.14, 0.40, 0.20)]), 0.15)
            over = mask + Colour(0.13, 0.2, 0.05) * vis
        case 1:  // blue
            mask = jitter(Colour(0.05, 0.17, 0.42), 0.15)
            over = mask + Colour(0.09, 0.18, 0.16) * vis
        case 2:  // black (matte)
            mask = jitter(Colour(0.075, 0.075, 0.085), 0.15)
            over = mask + Colour(0.09, 0.09, 0.085) * vis
            relief *= 1.8
        case 3:  // red
            mask = jitter(Colour(0.55, 0.08, 0.08), 0.12)
            over = mask + Colour(0.2, 0.12, 0.06) * vis
        case 4:  // white
            mask = jitter(Colour(0.85, 0.86, 0.84), 0.04)
            over = mask - Colour(0.07, 0.06, 0.15) * vis
            silk = Colour(0.08, 0.08, 0.09)
        case 5:  // purple
            mask = jitter(Colour(0.30, 0.11, 0.40), 0.12)
            over = mask + Colour(0.13, 0.08, 0.12) * vis
        default:  // yellow
            mask = jitter(Colour(0.78, 0.68, 0.16), 0.08)
            over = mask + Colour(0.1, 0.09, -0.03) * vis
            silk = rng.chance(0.5) ? Colour(0.1, 0.1, 0.1) : silk
        }
        if family != 4 && family != 6 && rng.chance(0.13) { silk = Colour(0.93, 0.86, 0.33) }
        let finishIndex = rng.weighted([0.5, 0.4, 0.1])
        let finish: SurfaceFinish = finishIndex == 0 ? .hasl : finishIndex == 1 ? .enig : .osp
        let finishColour: Colour = switch finish {
        case .hasl: jitter(Colour(0.78, 0.79, 0.80), 0.05)
        case .enig: jitter(Colour(0.86, 0.69, 0.36), 0.05)
        case .osp: jitter(Colour(0.80, 0.50, 0.36), 0.06)
        }
        let metalBackground = rng.chance(0.3)
        let background: Colour = metalBackground ? grey(rng.uniform(0.45, 0.7)) * Colour(1, 1, rng.uniform(1, 1.06))
            : rng.pick([Colour(0.12, 0.12, 0.13), Colour(0.18, 0.19, 0.2), Colour(0.1, 0.14, 0.12), Colour(0.22, 0.22, 0.24)])
        let angle = rng.uniform(0, 2 * .pi)
        return BoardStyle(
            mask: mask, maskOverCopper: over, laminate: jitter(Colour(0.70, 0.64, 0.44), 0.08), silk: silk,
            finish: finish, finishColour: finishColour, solder: jitter(Colour(0.80, 0.81, 0.83), 0.04),
            background: background, backgroundIsMetal: metalBackground, tentedVias: rng.chance(0.55), relief: relief,
            textureSeed: UInt32(truncatingIfNeeded: rng.next()), light: Vec2(cosf(angle), sinf(angle)))
    }

    // MARK: Generation

    mutating func generate() -> BoardLayout {
        let view = layout.view, safe = layout.safe
        let areaMM2 = view.width * view.height / (s * s)
        let density = rng.uniform(0.55, 1.3)

        // Holes and fiducials first: they sit near corners.
        if rng.chance(0.2) { placeMountingHole() }
        for _ in 0..<(rng.chance(0.5) ? rng.int(1...2) : 0) { placeFiducial(in: view) }

        // Integrated circuits: the first one always fully inside the safe region.
        let icCount = max(1, min(4, Int((areaMM2 / 1100 * density * rng.uniform(0.6, 1.4)).rounded())))
        var placedIC = false
        for attempt in 0..<icCount {
            for _ in 0..<3 where placeIC(region: attempt == 0 ? safe : view, small: attempt == 0 && placedIC == false && rng.chance(0.2)) {
                placedIC = true
                break
            }
        }
        if !placedIC { for _ in 0..<6 where !placedIC { placedIC = placeIC(region: safe, small: true) } }

        // Decoupling rows beside ICs, then scattered rows and singles of passives.
        for part in layout.parts where rng.chance(0.7) { placeRowBeside(part.footprint) }
        let passiveTarget = Int(areaMM2 / 70 * density)
        var tries = 0
        while layout.parts.count < passiveTarget && tries < passiveTarget * 3 {
            tries += 1
            let count = rng.chance(0.45) ? rng.int(2...5) : 1
            placeRow(count: count, near: randomPoint(in: view.outset(20)))
        }
        // A few of everything else.
        for _ in 0..<rng.int(0...3) { placeSmallPackage(.sot23) }
        for _ in 0..<rng.int(0...2) { placeSmallPackage(.sod123) }
        for _ in 0..<(rng.chance(0.4) ? rng.int(1...2) : 0) { placeElectrolytic() }
        if rng.chance(0.25) { placeHeader() }
        if rng.chance(0.3) { placeSmallPackage(.crystal) }
        for _ in 0..<(rng.chance(0.3) ? rng.int(1...2) : 0) { placeChip(kind: nil, special: .led, at: randomPoint(in: view), vertical: rng.chance(0.5)) }
        if rng.chance(0.3) { placeChip(kind: nil, special: .tantalum, at: randomPoint(in: view), vertical: rng.chance(0.5)) }

        // Bare pads: test points (at least two in the safe region) and an unpopulated footprint.
        var testPoints = 0
        for _ in 0..<40 where testPoints < 2 { if placeTestPoint(in: safe) { testPoints += 1 } }
        for _ in 0..<rng.int(0...3) { _ = placeTestPoint(in: view) }
        if rng.chance(0.4) { placeDNP() }

        // Routing.
        for index in layout.parts.indices { routeIC(index) }
        for index in layout.parts.indices { routePassive(index) }
        var buses = 0
        for _ in 0..<8 where buses < rng.int(1...3) { if freeBus() { buses += 1 } }
        var wide = 0
        for _ in 0..<12 where wide < 2 { if randomTrace(wide: true) { wide += 1 } }
        for _ in 0..<Int(Float(rng.int(3...10)) * density) { _ = randomTrace(wide: rng.chance(0.25)) }
        for _ in 0..<rng.int(2...14) { _ = placeVia(at: randomPoint(in: view.outset(20))) }
        if rng.chance(0.45) { makePour() }

        makeSilkscreen()
        if rng.chance(0.35) {
            for _ in 0..<rng.int(1...4) { layout.dust.append((randomPoint(in: view), rng.uniform(0.5, 2.5), rng.next())) }
        }
        return layout
    }

    // MARK: Helpers

    private mutating func randomPoint(in box: Box) -> Vec2 {
        Vec2(rng.uniform(box.x0, box.x1), rng.uniform(box.y0, box.y1))
    }

    private func isFree(_ box: Box, margin: Float) -> Bool {
        guard content.contains(box) else { return false }
        let grown = box.outset(margin)
        return !partBlocks.contains { $0.intersects(grown) }
    }

    private mutating func refdes(_ prefix: String) -> String {
        let next = refCounters[prefix] ?? rng.int(1...60)
        refCounters[prefix] = next + rng.int(1...3)
        return prefix + String(next)
    }

    /// Adds a pad; returns its index.
    private mutating func addPad(_ box: Box, round: Bool = false, bare: Bool = false) -> Int {
        layout.pads.append(Pad(box: box, round: round, bare: bare, opening: max(0.5, 0.05 * s), seed: rng.next()))
        routeBlocks.append((box, layout.pads.count - 1))
        return layout.pads.count - 1
    }

    private mutating func commit(_ part: Part, padBoxes: [Box], blockMargin: Float) -> Part {
        var part = part
        part.pads = padBoxes.map { addPad($0) }
        for j in part.joints.indices { part.joints[j].pad = part.pads[part.joints[j].pad] }
        partBlocks.append(part.footprint.outset(blockMargin))
        routeBlocks.append((part.body, nil))
        layout.parts.append(part)
        return part
    }

    // MARK: Parts

    /// Chip sizes: length, width, height (mm).
    private static let chipSizes: [(Float, Float, Float)] = [(1.0, 0.5, 0.35), (1.6, 0.8, 0.45), (2.0, 1.25, 0.55), (3.2, 1.6, 0.6)]

    private enum Special { case led, tantalum }

    @discardableResult
    private mutating func placeChip(kind: ChipKind?, special: Special? = nil, sizeIndex: Int? = nil, at center: Vec2, vertical: Bool) -> Bool {
        var (l, w, h) = LayoutGenerator.chipSizes[sizeIndex ?? rng.weighted([0.2, 0.4, 0.25, 0.15])]
        let partKind: PartKind
        let prefix: String
        switch special {
        case .led: partKind = .led; prefix = "D"; (l, w, h) = rng.chance(0.5) ? (1.6, 0.8, 0.6) : (2.0, 1.25, 0.8)
        case .tantalum: partKind = .tantalum; prefix = "C"; (l, w, h) = rng.chance(0.5) ? (3.2, 1.6, 1.6) : (3.5, 2.8, 1.9)
        case nil:
            let k = kind ?? ChipKind.allCases[rng.weighted([0.45, 0.45, 0.05, 0.05])]
            partKind = .chip(k)
            prefix = k == .resistor ? "R" : k == .capacitor ? "C" : k == .inductor ? "L" : "FB"
        }
        let L = l * s, W = w * s
        let padInner = 0.25 * L, padOuter = 0.8 * L, padHalfW = (W * 1.1 + 0.1 * s) / 2
        let cap = (special == .tantalum ? 0.22 : 0.2) * L
        let rot = Quarter(turns: vertical ? 1 : 0)
        let body = rot.box(Box(-L / 2, -W / 2, L / 2, W / 2), at: center)
        var padBoxes: [Box] = [], joints: [Joint] = []
        for side: Float in [-1, 1] {
            padBoxes.append(rot.box(Box(side * padInner, -padHalfW, side * padOuter, padHalfW), at: center))
            let terminal = rot.box(Box(side * (L / 2 - cap), -W / 2, side * L / 2, W / 2), at: center)
            joints.append(Joint(pad: joints.count, terminal: terminal, outward: rot.apply(Vec2(side, 0)), seed: rng.next()))
        }
        let footprint = padBoxes.reduce(body) { $0.union($1) }
        guard isFree(footprint, margin: 0.25 * s) else { return false }
        var part = Part(kind: partKind, body: body, joints: joints, seed: rng.next(), refdes: refdes(prefix),
                        vertical: vertical, heightMM: h, footprint: footprint)
        if special != nil { part.pin1 = rot.apply(Vec2(-L / 2, 0)) + center }
        _ = commit(part, padBoxes: padBoxes, blockMargin: 0.3 * s)
        return true
    }

    private mutating func placeRow(count: Int, near start: Vec2) {
        let vertical = rng.chance(0.5)
        let kind = ChipKind.allCases[rng.weighted([0.45, 0.45, 0.05, 0.05])]
        let size = rng.weighted([0.2, 0.4, 0.25, 0.15])
        let (_, w, _) = LayoutGenerator.chipSizes[size]
        // Parts in a row sit side by side across their long axis.
        let pitch = (w * 1.1 + 0.1 + rng.uniform(0.35, 1.2)) * s
        let step = vertical ? Vec2(pitch, 0) : Vec2(0, pitch)
        for i in 0..<count { placeChip(kind: kind, sizeIndex: size, at: start + step * Float(i), vertical: vertical) }
    }

    private mutating func placeRowBeside(_ box: Box) {
        let side = rng.int(0...3)
        let gap = rng.uniform(1.4, 3.0) * s
        let count = rng.int(2...5)
        let vertical = side == 0 || side == 2  // parts' long axis points at the IC
        let p: Vec2
        switch side {
        case 0: p = Vec2(box.x0 - gap, rng.uniform(box.y0, box.center.y))
        case 1: p = Vec2(rng.uniform(box.x0, box.center.x), box.y0 - gap)
        case 2: p = Vec2(box.x1 + gap, rng.uniform(box.y0, box.center.y))
        default: p = Vec2(rng.uniform(box.x0, box.center.x), box.y1 + gap)
        }
        let size = rng.weighted([0.3, 0.45, 0.2, 0.05])
        let (_, w, _) = LayoutGenerator.chipSizes[size]
        let pitch = (w * 1.1 + 0.1 + rng.uniform(0.4, 1.0)) * s
        let step = vertical ? Vec2(0, pitch) : Vec2(pitch, 0)
        for i in 0..<count { placeChip(kind: .capacitor, sizeIndex: size, at: p + step * Float(i), vertical: !vertical) }
    }

    /// Places an IC; returns false when no free spot was found.
    private mutating func placeIC(region: Box, small: Bool) -> Bool {
        let package: ICPackage
        let n: Int
        let choice = small ? 0 : rng.weighted([0.45, 0.3, 0.25])
        switch choice {
        case 0: package = .soic; n = rng.pick([8, 8, 14, 16])
        case 1: package = .tssop; n = rng.pick([14, 16, 20, 24])
        default: package = .qfp; n = rng.pick([32, 44, 48, 64])
        }
        let pitch: Float, bodyW: Float, span: Float, leadW: Float, padW: Float
        var bodyL: Float
        switch package {
        case .soic: pitch = 1.27; bodyW = 3.9; span = 6.0; leadW = 0.42; padW = 0.6; bodyL = Float(n / 2) * 1.27 + 0.1
        case .tssop: pitch = 0.65; bodyW = 4.4; span = 6.4; leadW = 0.26; padW = 0.4; bodyL = Float(n / 2) * 0.65 + 0.6
        case .qfp:
            pitch = (n == 32 || n == 44) ? 0.8 : 0.5
            bodyL = Float(n / 4) * pitch + 1.0
            bodyW = bodyL; span = bodyL + 2.0; leadW = pitch * 0.45; padW = pitch * 0.56
        }
        // Keep it well inside the view.
        let sizePx = max(bodyL, span) * s
        if sizePx > 0.6 * min(layout.view.width, layout.view.height) {
            if package == .soic && n == 8 { return false }
            return placeSmallSOIC(region: region)
        }
        let rot = Quarter(turns: rng.int(0...3))
        let halfFoot = Vec2(bodyL * s / 2, span * s / 2 + 0.45 * s)
        let extent = package == .qfp ? Vec2(halfFoot.y, halfFoot.y) : (rot.turns & 1 == 0 ? halfFoot : Vec2(halfFoot.y, halfFoot.x))
        let inner = region.inset(0)
        guard inner.width > 2 * extent.x, inner.height > 2 * extent.y else { return false }
        for _ in 0..<40 {
            let c = Vec2(rng.uniform(inner.x0 + extent.x, inner.x1 - extent.x), rng.uniform(inner.y0 + extent.y, inner.y1 - extent.y))
            if let part = buildIC(package: package, pins: n, pitch: pitch, bodyL: bodyL, bodyW: bodyW, span: span,
                                  leadW: leadW, padW: padW, center: c, rot: rot) {
                guard isFree(part.0.footprint, margin: 0.8 * s) else { continue }
                _ = commit(part.0, padBoxes: part.1, blockMargin: 0.8 * s)
                return true
            }
        }
        return false
    }

    private mutating func placeSmallSOIC(region: Box) -> Bool {
        let rot = Quarter(turns: rng.int(0...3))
        for _ in 0..<40 {
            let c = randomPoint(in: region.inset(4.5 * s))
            if let part = buildIC(package: .soic, pins: 8, pitch: 1.27, bodyL: 5.0, bodyW: 3.9, span: 6.0, leadW: 0.42, padW: 0.6, center: c, rot: rot),
               region.contains(part.0.footprint), isFree(part.0.footprint, margin: 0.8 * s) {
                _ = commit(part.0, padBoxes: part.1, blockMargin: 0.8 * s)
                return true
            }
        }
        return false
    }

    private mutating func buildIC(package: ICPackage, pins n: Int, pitch: Float, bodyL: Float, bodyW: Float, span: Float,
                                  leadW: Float, padW: Float, center: Vec2, rot: Quarter) -> (Part, [Box])? {
        var padBoxes: [Box] = [], joints: [Joint] = [], leads: [Lead] = []
        let sides: [Int] = package == .qfp ? [0, 1, 2, 3] : [1, 3]   // outward: 0 -x, 1 +y, 2 +x, 3 -y
        let perSide = package == .qfp ? n / 4 : n / 2
        let halfBody = package == .qfp ? Vec2(bodyL / 2, bodyL / 2) : Vec2(bodyL / 2, bodyW / 2)
        for side in sides {
            let out: Vec2 = [Vec2(-1, 0), Vec2(0, 1), Vec2(1, 0), Vec2(0, -1)][side]
            let along = Vec2(-out.y, out.x)
            let edge = side % 2 == 0 ? halfBody.x : halfBody.y
            let toe = span / 2
            let footLen = 0.62 * (toe - edge)
            for i in 0..<perSide {
                let t = (Float(i) - Float(perSide - 1) / 2) * pitch
                func box(_ from: Float, _ to: Float, _ halfWidth: Float) -> Box {
                    let a = out * from + along * (t - halfWidth), b = out * to + along * (t + halfWidth)
                    return rot.box(Box(a.x, a.y, b.x, b.y) * s, at: center)
                }
                let pad = box(toe - footLen - 0.3, toe + 0.42, padW / 2)
                let foot = box(toe - footLen, toe, leadW / 2)
                let shoulder = box(edge, toe - footLen, leadW / 2 * 0.9)
                joints.append(Joint(pad: padBoxes.count, terminal: foot, outward: rot.apply(out), seed: rng.next()))
                leads.append(Lead(shoulder: shoulder, foot: foot, outward: rot.apply(out), joint: joints.count - 1))
                padBoxes.append(pad)
            }
        }
        let body = rot.box(Box(-halfBody.x, -halfBody.y, halfBody.x, halfBody.y) * s, at: center)
        let footprint = padBoxes.reduce(body) { $0.union($1) }
        let pin1Local = package == .qfp ? Vec2(-halfBody.x + 0.9, -halfBody.y + 0.9) : Vec2(-halfBody.x + 0.8, halfBody.y - 0.8)
        var part = Part(kind: .ic(package), body: body, joints: joints, leads: leads, seed: rng.next(), refdes: refdes("U"),
                        vertical: rot.turns & 1 == 1, heightMM: package == .qfp ? 1.4 : 1.5, footprint: footprint)
        part.pin1 = rot.apply(pin1Local * s) + center
        return (part, padBoxes)
    }

    private enum SmallPackage { case sot23, sod123, crystal }

    private mutating func placeSmallPackage(_ kind: SmallPackage) {
        let rot = Quarter(turns: rng.int(0...3))
        for _ in 0..<15 {
            let c = randomPoint(in: layout.view.outset(10))
            var padBoxes: [Box] = [], joints: [Joint] = [], leads: [Lead] = []
            func local(_ b: Box) -> Box { rot.box(b * s, at: c) }
            let body: Box, partKind: PartKind, prefix: String, height: Float
            switch kind {
            case .sot23:
                body = local(Box(-1.45, -0.65, 1.45, 0.65)); partKind = .sot23; prefix = "Q"; height = 1.0
                for (x, y) in [(-0.95, 1.0), (0.95, 1.0), (0, -1.0)] as [(Float, Float)] {
                    let sign: Float = y > 0 ? 1 : -1
                    let foot = local(Box(x - 0.2, sign * 0.9, x + 0.2, sign * 1.25))
                    let shoulder = local(Box(x - 0.18, sign * 0.65, x + 0.18, sign * 0.9))
                    padBoxes.append(local(Box(x - 0.4, sign * 0.7, x + 0.4, sign * 1.6)))
                    joints.append(Joint(pad: joints.count, terminal: foot, outward: rot.apply(Vec2(0, sign)), seed: rng.next()))
                    leads.append(Lead(shoulder: shoulder, foot: foot, outward: rot.apply(Vec2(0, sign)), joint: joints.count - 1))
                }
            case .sod123:
                body = local(Box(-1.35, -0.8, 1.35, 0.8)); partKind = .sod123; prefix = "D"; height = 1.1
                for sign: Float in [-1, 1] {
                    let foot = local(Box(sign * 1.35, -0.3, sign * 1.9, 0.3))
                    padBoxes.append(local(Box(sign * 1.25, -0.6, sign * 2.35, 0.6)))
                    joints.append(Joint(pad: joints.count, terminal: foot, outward: rot.apply(Vec2(sign, 0)), seed: rng.next()))
                    leads.append(Lead(shoulder: foot.inset(0), foot: foot, outward: rot.apply(Vec2(sign, 0)), joint: joints.count - 1))
                }
            case .crystal:
                body = local(Box(-1.6, -1.25, 1.6, 1.25)); partKind = .crystal; prefix = "Y"; height = 0.8
                for (x, y) in [(-1.1, -0.8), (1.1, -0.8), (-1.1, 0.8), (1.1, 0.8)] as [(Float, Float)] {
                    let pad = local(Box(x - 0.7, y - 0.55, x + 0.7, y + 0.55).offset(Vec2(x > 0 ? 0.25 : -0.25, y > 0 ? 0.2 : -0.2)))
                    padBoxes.append(pad)
                    joints.append(Joint(pad: joints.count, terminal: pad.inset(0.3 * s), outward: rot.apply(Vec2(x > 0 ? 1 : -1, 0)), seed: rng.next()))
                }
            }
            let footprint = padBoxes.reduce(body) { $0.union($1) }
            guard isFree(footprint, margin: 0.5 * s) else { continue }
            var part = Part(kind: partKind, body: body, joints: joints, leads: leads, seed: rng.next(), refdes: refdes(prefix),
                            vertical: rot.turns & 1 == 1, heightMM: height, footprint: footprint)
            part.pin1 = rot.apply(Vec2(-1.35, 0) * s) + c
            _ = commit(part, padBoxes: padBoxes, blockMargin: 0.5 * s)
            return
        }
    }

    private mutating func placeElectrolytic() {
        let d = rng.pick([4.0, 5.0, 6.3, 8.0] as [Float])
        guard d * s < 0.45 * layout.view.height else { return }
        for _ in 0..<15 {
            let c = randomPoint(in: layout.view.outset(d * s * 0.3))
            let rot = Quarter(turns: rng.int(0...3))
            let half = (d / 2 + 0.15) * s
            let body = Box(center: c, half: Vec2(half, half))
            var padBoxes: [Box] = [], joints: [Joint] = []
            for sign: Float in [-1, 1] {
                let pad = rot.box(Box(sign * (d / 2 - 0.9), -0.8, sign * (d / 2 + 1.3), 0.8) * s, at: c)
                let tab = rot.box(Box(sign * (d / 2 + 0.1), -0.3, sign * (d / 2 + 0.8), 0.3) * s, at: c)
                padBoxes.append(pad)
                joints.append(Joint(pad: joints.count, terminal: tab, outward: rot.apply(Vec2(sign, 0)), seed: rng.next()))
            }
            let footprint = padBoxes.reduce(body) { $0.union($1) }
            guard isFree(footprint, margin: 0.6 * s) else { continue }
            var part = Part(kind: .electrolytic, body: body, joints: joints, seed: rng.next(), refdes: refdes("C"),
                            vertical: rot.turns & 1 == 1, heightMM: d * 1.1 + 1, footprint: footprint)
            part.pin1 = rot.apply(Vec2(-d / 2, 0) * s) + c
            _ = commit(part, padBoxes: padBoxes, blockMargin: 0.6 * s)
            return
        }
    }

    private mutating func placeHeader() {
        let rows = rng.chance(0.5) ? 1 : 2, cols = rng.int(2...8)
        let pitch = 2.54 * s
        let vertical = rng.chance(0.5)
        for _ in 0..<15 {
            let c = randomPoint(in: layout.view)
            let half = Vec2(Float(cols) * pitch / 2, Float(rows) * pitch / 2)
            let body = Box(center: c, half: vertical ? Vec2(half.y, half.x) : half)
            guard isFree(body, margin: 0.8 * s) else { continue }
            let part = Part(kind: .header(rows: vertical ? cols : rows, columns: vertical ? rows : cols), body: body,
                            seed: rng.next(), refdes: refdes("J"), vertical: vertical, heightMM: 8.5, footprint: body)
            _ = commit(part, padBoxes: [], blockMargin: 0.8 * s)
            return
        }
    }

    private mutating func placeTestPoint(in region: Box) -> Bool {
        let r = rng.uniform(0.5, 0.9) * s
        let c = randomPoint(in: region.inset(r + 2))
        let box = Box(center: c, half: Vec2(r, r))
        guard isFree(box, margin: 0.6 * s), !routeBlocks.contains(where: { $0.box.intersects(box.outset(clearance)) }) else { return false }
        _ = addPad(box, round: true, bare: true)
        partBlocks.append(box.outset(0.5 * s))
        return true
    }

    /// An unpopulated (do-not-place) passive footprint: clean pads and silkscreen, no part.
    private mutating func placeDNP() {
        for _ in 0..<10 {
            let c = randomPoint(in: layout.view)
            let vertical = rng.chance(0.5)
            let (l, w, _) = LayoutGenerator.chipSizes[rng.int(1...3)]
            let L = l * s, W = w * s
            let rot = Quarter(turns: vertical ? 1 : 0)
            let padHalfW = (W * 1.1 + 0.1 * s) / 2
            let boxes = [-1, 1].map { (side: Float) in rot.box(Box(side * 0.25 * L, -padHalfW, side * 0.8 * L, padHalfW), at: c) }
            let fp = boxes[0].union(boxes[1])
            guard isFree(fp, margin: 0.4 * s) else { continue }
            for b in boxes { _ = addPad(b, bare: true) }
            partBlocks.append(fp.outset(0.4 * s))
            addSilkOutline(fp.outset(0.35 * s), style: 1)
            return
        }
    }

    private mutating func placeFiducial(in region: Box) {
        for _ in 0..<10 {
            let r = rng.uniform(0.45, 0.6) * s, clear = r * rng.uniform(1.8, 2.4)
            let c = randomPoint(in: region.inset(clear))
            let box = Box(center: c, half: Vec2(clear, clear))
            guard isFree(box, margin: 0.3 * s) else { continue }
            layout.fiducials.append(Fiducial(center: c, radius: r, clearance: clear))
            partBlocks.append(box.outset(0.3 * s))
            routeBlocks.append((box, nil))
            return
        }
    }

    private mutating func placeMountingHole() {
        let v = layout.view
        let corners = [Vec2(v.x0, v.y0), Vec2(v.x1, v.y0), Vec2(v.x0, v.y1), Vec2(v.x1, v.y1)]
        let corner = rng.pick(corners)
        let drill = rng.uniform(1.4, 1.8) * s, ring = drill + rng.uniform(0.8, 1.4) * s
        let c = corner + (v.center - corner) * rng.uniform(0.05, 0.15)
        let box = Box(center: c, half: Vec2(ring, ring))
        guard isFree(box, margin: 0.5 * s) else { return }
        layout.holes.append(MountingHole(center: c, drill: drill, ring: ring))
        partBlocks.append(box.outset(0.8 * s))
        routeBlocks.append((box, nil))
    }

    // MARK: Routing

    private func segmentIsFree(_ a: Vec2, _ b: Vec2, radius r: Float, ignoring: Set<Int>) -> Bool {
        let reach = r + clearance
        let sb = Box(min(a.x, b.x), min(a.y, b.y), max(a.x, b.x), max(a.y, b.y)).outset(reach + 1)
        guard layout.board.inset(0.6 * s).contains(sb) else { return false }
        for block in routeBlocks where block.box.outset(0.5).intersects(sb) {
            if let pad = block.pad, ignoring.contains(pad) { continue }
            if segmentBoxDistance(a, b, block.box) < reach { return false }
        }
        for seg in routeSegments {
            let other = Box(min(seg.a.x, seg.b.x), min(seg.a.y, seg.b.y), max(seg.a.x, seg.b.x), max(seg.a.y, seg.b.y)).outset(seg.r)
            guard other.intersects(sb) else { continue }
            if segmentSegmentDistance(a, b, seg.a, seg.b) < reach + seg.r { return false }
        }
        return true
    }

    private func pathIsFree(_ points: [Vec2], radius: Float, ignoring: Set<Int>) -> Bool {
        for i in 0..<(points.count - 1) where !segmentIsFree(points[i], points[i + 1], radius: radius, ignoring: ignoring) { return false }
        return true
    }

    private mutating func addTrace(_ points: [Vec2], width: Float) {
        layout.traces.append(Trace(points: points, width: width))
        for i in 0..<(points.count - 1) { routeSegments.append((points[i], points[i + 1], width / 2)) }
    }

    private func viaFits(_ c: Vec2, radius: Float, ignoreSegmentsFrom: Int = Int.max) -> Bool {
        let box = Box(center: c, half: Vec2(radius, radius))
        guard layout.board.inset(0.8 * s).contains(box) else { return false }
        for block in routeBlocks where block.box.distance(to: c) < radius + clearance { return false }
        for (i, seg) in routeSegments.enumerated() where i < ignoreSegmentsFrom {
            if segmentDistance(c, seg.a, seg.b) < radius + seg.r + clearance { return false }
        }
        return !partBlocks.contains { $0.intersects(box) }
    }

    @discardableResult
    private mutating func placeVia(at c: Vec2, ignoreSegmentsFrom: Int = Int.max) -> Bool {
        let r = rng.uniform(0.28, 0.42) * s
        guard viaFits(c, radius: r, ignoreSegmentsFrom: ignoreSegmentsFrom) else { return false }
        layout.vias.append(Via(center: c, radius: r, drill: r * rng.uniform(0.42, 0.55)))
        routeBlocks.append((Box(center: c, half: Vec2(r, r)), nil))
        return true
    }

    /// Offsets a polyline sideways (left normal) with mitred joins; nil if it folds.
    private func offset(_ points: [Vec2], by d: Float) -> [Vec2]? {
        guard d != 0 else { return points }
        func normal(_ a: Vec2, _ b: Vec2) -> Vec2 { let t = (b - a) / max(length2(b - a), 1e-6); return Vec2(-t.y, t.x) }
        var out: [Vec2] = []
        for i in points.indices {
            if i == 0 { out.append(points[0] + normal(points[0], points[1]) * d); continue }
            if i == points.count - 1 { out.append(points[i] + normal(points[i - 1], points[i]) * d); continue }
            let n1 = normal(points[i - 1], points[i]), n2 = normal(points[i], points[i + 1])
            let m = (n1 + n2) / max(length2(n1 + n2), 1e-6)
            out.append(points[i] + m * (d / max(dot2(m, n1), 0.3)))
        }
        for i in 0..<(out.count - 1) where dot2(out[i + 1] - out[i], points[i + 1] - points[i]) <= 0 { return nil }
        return out
    }

    private func rotate45(_ d: Vec2, _ steps: Int) -> Vec2 {
        var v = d
        let c: Float = 0.70710678
        for _ in 0..<abs(steps) {
            v = steps > 0 ? Vec2(v.x * c - v.y * c, v.x * c + v.y * c) : Vec2(v.x * c + v.y * c, -v.x * c + v.y * c)
        }
        let n = length2(v)
        return v / n
    }

    /// A random 45/90-degree path starting at `start` heading `dir`.
    private mutating func randomPath(start: Vec2, dir: Vec2, first: Float, segments: Int, maxLength: Float) -> [Vec2] {
        var points = [start, start + dir * first]
        var d = dir, heading = 0
        for k in 0..<segments {
            let diagonal = heading % 2 != 0
            var turn = 0
            if diagonal { turn = heading > 0 ? -1 : 1 }
            else if k > 0 || rng.chance(0.7) { turn = rng.chance(0.8) ? rng.pick([-1, 1]) : rng.pick([-2, 2, 0]) }
            if abs(heading + turn) > 2 { turn = -turn }
            heading += turn
            d = rotate45(d, turn)
            let len = (heading % 2 != 0 ? rng.uniform(0.8, 5) : rng.uniform(2, maxLength / s)) * s
            points.append(points[points.count - 1] + d * len)
        }
        return points
    }

    /// Fans a group of IC leads out into a parallel bus, ending at vias or running off the view.
    private mutating func routeIC(_ index: Int) {
        let part = layout.parts[index]
        guard case .ic = part.kind, !part.leads.isEmpty else { return }
        // Group consecutive leads that share a side.
        var groups: [[Int]] = []
        for (i, lead) in part.leads.enumerated() {
            if let last = groups.last?.last, part.leads[last].outward == lead.outward, last == i - 1 { groups[groups.count - 1].append(i) }
            else { groups.append([i]) }
        }
        for group in groups {
            var i = 0
            while i < group.count {
                let len = min(group.count - i, rng.chance(0.3) ? 1 : rng.int(2...8))
                let members = Array(group[i..<(i + len)])
                i += len
                if rng.chance(0.25) { continue }
                let leads = members.map { part.leads[$0] }
                let pads = members.map { part.joints[part.leads[$0].joint].pad }
                let starts = pads.map { layout.pads[$0].box.center }
                let dir = leads[0].outward
                let pitch = starts.count > 1 ? length2(starts[1] - starts[0]) : 1.0 * s
                let width = min(rng.uniform(0.18, 0.3) * s, pitch * 0.5)
                let normal = Vec2(-dir.y, dir.x)
                let sign: Float = starts.count > 1 ? (dot2(starts[1] - starts[0], normal) > 0 ? 1 : -1) : 1
                let padReach = dot2(layout.pads[pads[0]].box.half, Vec2(abs(dir.x), abs(dir.y)))
                for _ in 0..<6 {
                    let first = padReach + (0.6 + 0.45 * Float(starts.count)) * pitch * rng.uniform(0.8, 1.6)
                    let base = randomPath(start: starts[0], dir: dir, first: first, segments: rng.int(1...3), maxLength: 18)
                    var paths: [[Vec2]] = []
                    for k in 0..<starts.count {
                        guard let p = offset(base, by: sign * Float(k) * pitch) else { break }
                        paths.append(p)
                    }
                    guard paths.count == starts.count else { continue }
                    let ignore = Set(pads)
                    guard paths.allSatisfy({ pathIsFree($0, radius: width / 2, ignoring: ignore) }) else { continue }
                    let firstSeg = routeSegments.count
                    for p in paths { addTrace(p, width: width) }
                    // Vias at the ends, staggered when the pitch is tight.
                    if rng.chance(0.6) {
                        for (k, p) in paths.enumerated() {
                            let end = p[p.count - 1], d = (end - p[p.count - 2]) / length2(end - p[p.count - 2])
                            let stagger: Float = (pitch < 1.0 * s && k % 2 == 1) ? 1.0 * s : 0
                            if stagger > 0 { layout.traces[layout.traces.count - paths.count + k].points[p.count - 1] = end + d * stagger }
                            placeVia(at: end + d * stagger, ignoreSegmentsFrom: firstSeg)
                        }
                    }
                    break
                }
            }
        }
    }

    /// Short traces from passive pads to vias or onwards.
    private mutating func routePassive(_ index: Int) {
        let part = layout.parts[index]
        switch part.kind {
        case .chip, .sot23, .sod123, .tantalum, .led, .electrolytic: break
        default: return
        }
        for joint in part.joints where rng.chance(0.65) {
            let pad = layout.pads[joint.pad]
            let width = rng.uniform(0.2, 0.5) * s
            let sideways = rng.chance(0.3)
            let dir = sideways ? Vec2(-joint.outward.y, joint.outward.x) * rng.sign() : joint.outward
            let reach = dot2(pad.box.half, Vec2(abs(dir.x), abs(dir.y)))
            for _ in 0..<4 {
                let path = randomPath(start: pad.box.center, dir: dir, first: reach + rng.uniform(0.6, 2.5) * s,
                                      segments: rng.chance(0.5) ? 0 : rng.int(1...2), maxLength: 8)
                guard pathIsFree(path, radius: width / 2, ignoring: [joint.pad]) else { continue }
                let firstSeg = routeSegments.count
                addTrace(path, width: width)
                if !placeVia(at: path[path.count - 1], ignoreSegmentsFrom: firstSeg) {
                    if !rng.chance(0.3) { layout.traces.removeLast(); routeSegments.removeLast(path.count - 1) }
                }
                break
            }
        }
    }

    /// A bus of parallel traces crossing the view.
    private mutating func freeBus() -> Bool {
        let n = rng.int(2...7)
        let width = rng.uniform(0.2, 0.45) * s
        let pitch = width + rng.uniform(0.25, 0.8) * s
        let (start, dir) = edgeStart()
        let base = randomPath(start: start, dir: dir, first: rng.uniform(4, 20) * s, segments: rng.int(1...4), maxLength: 30)
        var paths: [[Vec2]] = []
        for k in 0..<n {
            guard let p = offset(base, by: Float(k) * pitch) else { return false }
            paths.append(p)
        }
        // Shorten from the far end until the whole bus fits (leaving at least two segments).
        var cut = paths[0].count
        while cut >= 2 {
            let trimmed = paths.map { Array($0.prefix(cut)) }
            if trimmed.allSatisfy({ pathIsFree($0, radius: width / 2, ignoring: []) }) {
                guard cut >= 3 || length2(trimmed[0][1] - trimmed[0][0]) > 8 * s else { return false }
                let firstSeg = routeSegments.count
                for p in trimmed { addTrace(p, width: width) }
                if cut < paths[0].count {
                    for p in trimmed { placeVia(at: p[p.count - 1], ignoreSegmentsFrom: firstSeg) }
                }
                return true
            }
            cut -= 1
        }
        return false
    }

    /// A point just outside the view on a random side, with the inward direction.
    private mutating func edgeStart() -> (Vec2, Vec2) {
        let v = layout.view.outset(6)
        switch rng.int(0...3) {
        case 0: return (Vec2(v.x0, rng.uniform(v.y0, v.y1)), Vec2(1, 0))
        case 1: return (Vec2(rng.uniform(v.x0, v.x1), v.y0), Vec2(0, 1))
        case 2: return (Vec2(v.x1, rng.uniform(v.y0, v.y1)), Vec2(-1, 0))
        default: return (Vec2(rng.uniform(v.x0, v.x1), v.y1), Vec2(0, -1))
        }
    }

    /// A single trace wandering in from the edge (or from a via), ending at a via.
    private mutating func randomTrace(wide: Bool) -> Bool {
        let width = (wide ? rng.uniform(0.45, 1.1) : rng.uniform(0.18, 0.35)) * s
        let (start, dir) = rng.chance(0.7) ? edgeStart() : (randomPoint(in: layout.view), rng.pick([Vec2(1, 0), Vec2(-1, 0), Vec2(0, 1), Vec2(0, -1)]))
        var path = randomPath(start: start, dir: dir, first: rng.uniform(3, 18) * s, segments: rng.int(1...5), maxLength: 25)
        while path.count >= 2 {
            if pathIsFree(path, radius: width / 2, ignoring: []) {
                if path.count == 2 && length2(path[1] - path[0]) < 6 * s { return false }
                let firstSeg = routeSegments.count
                addTrace(path, width: width)
                placeVia(at: path[path.count - 1], ignoreSegmentsFrom: firstSeg)
                return true
            }
            // Pull the last point back; drop it when too short.
            let a = path[path.count - 2], b = path[path.count - 1]
            let len = length2(b - a)
            if len > 3 * s { path[path.count - 1] = a + (b - a) * 0.6 } else { path.removeLast() }
        }
        return false
    }

    private mutating func makePour() {
        let v = layout.view
        let wholeBoard = rng.chance(0.35)
        let box = wholeBoard ? v.outset(40) : {
            let w = v.width * rng.uniform(0.3, 0.7), h = v.height * rng.uniform(0.3, 0.7)
            let x = rng.uniform(v.x0 - 20, v.x1 - w + 20), y = rng.uniform(v.y0 - 20, v.y1 - h + 20)
            return Box(x, y, x + w, y + h)
        }()
        let c = wholeBoard ? 0 : min(box.width, box.height) * rng.uniform(0, 0.25)
        layout.pours.append([
            Vec2(box.x0 + c, box.y0), Vec2(box.x1 - c, box.y0), Vec2(box.x1, box.y0 + c), Vec2(box.x1, box.y1 - c),
            Vec2(box.x1 - c, box.y1), Vec2(box.x0 + c, box.y1), Vec2(box.x0, box.y1 - c), Vec2(box.x0, box.y0 + c),
        ])
        layout.pourClearance = rng.uniform(0.25, 0.5) * s
    }

    // MARK: Silkscreen

    private mutating func addSilkOutline(_ box: Box, style: Int) {
        let w = max(1.0, rng.uniform(0.12, 0.2) * s)
        let p = [Vec2(box.x0, box.y0), Vec2(box.x1, box.y0), Vec2(box.x1, box.y1), Vec2(box.x0, box.y1)]
        switch style {
        case 0: layout.silk.append(SilkStroke(points: p + [p[0]], width: w))
        default:  // corner brackets
            let k = min(box.width, box.height) * 0.3
            for i in 0..<4 {
                let c = p[i], a = p[(i + 3) % 4], b = p[(i + 1) % 4]
                layout.silk.append(SilkStroke(points: [c + (a - c) / length2(a - c) * k, c, c + (b - c) / length2(b - c) * k], width: w))
            }
        }
        layout.silkBoxes.append(box.outset(w))
    }

    private func silkClear(_ box: Box) -> Bool {
        guard layout.board.inset(0.5 * s).contains(box) else { return false }
        if layout.pads.contains(where: { $0.box.outset(0.25 * s).intersects(box) }) { return false }
        if layout.parts.contains(where: { $0.body.outset(0.2 * s).intersects(box) }) { return false }
        if layout.vias.contains(where: { Box(center: $0.center, half: Vec2($0.radius, $0.radius)).intersects(box) }) { return false }
        if layout.fiducials.contains(where: { Box(center: $0.center, half: Vec2($0.clearance, $0.clearance)).intersects(box) }) { return false }
        return !layout.silkBoxes.contains { $0.intersects(box) }
    }

    private mutating func makeSilkscreen() {
        let textHeight = max(5.5, rng.uniform(0.7, 1.0) * s)
        let strokeW = max(1.0, textHeight * rng.uniform(0.12, 0.16))
        for part in layout.parts {
            let w = max(1.0, rng.uniform(0.12, 0.2) * s)
            switch part.kind {
            case .chip, .tantalum, .led:
                if rng.chance(0.45) {
                    // Two lines along the long sides.
                    let b = part.body.outset(0.35 * s)
                    let fp = part.footprint
                    let lines: [[Vec2]] = part.vertical
                        ? [[Vec2(fp.x0 - 0.3 * s, b.y0), Vec2(fp.x0 - 0.3 * s, b.y1)], [Vec2(fp.x1 + 0.3 * s, b.y0), Vec2(fp.x1 + 0.3 * s, b.y1)]]
                        : [[Vec2(b.x0, fp.y0 - 0.3 * s), Vec2(b.x1, fp.y0 - 0.3 * s)], [Vec2(b.x0, fp.y1 + 0.3 * s), Vec2(b.x1, fp.y1 + 0.3 * s)]]
                    let boxes = lines.map { Box(points: $0).outset(w) }
                    if boxes.allSatisfy({ silkClear($0) }) {
                        for (l, b) in zip(lines, boxes) { layout.silk.append(SilkStroke(points: l, width: w)); layout.silkBoxes.append(b) }
                    }
                } else if rng.chance(0.3) {
                    let b = part.footprint.outset(0.35 * s)
                    addSilkOutlineIfClear(b, style: rng.int(0...1))
                }
            case .ic:
                let b = rng.chance(0.5) ? part.footprint.outset(0.4 * s) : part.body.inset(-0.1 * s)
                addSilkOutlineIfClear(b, style: rng.chance(0.7) ? 0 : 1, allowOverOwn: part)
                if let p1 = part.pin1, rng.chance(0.7) {
                    let dir = (p1 - part.body.center) / max(length2(p1 - part.body.center), 1)
                    let dot = part.footprint.center + (p1 - part.footprint.center) * 1.0 + dir * (length2(part.footprint.half) - length2(p1 - part.footprint.center) + 0.9 * s)
                    let r = max(1.0, 0.3 * s)
                    if silkClear(Box(center: dot, half: Vec2(r, r))) {
                        layout.silkDots.append((dot, r)); layout.silkBoxes.append(Box(center: dot, half: Vec2(r, r)))
                    }
                }
            case .electrolytic, .header, .crystal, .sot23, .sod123:
                addSilkOutlineIfClear(part.footprint.outset(0.35 * s), style: rng.chance(0.6) ? 0 : 1, allowOverOwn: part)
                if case .electrolytic = part.kind, let p1 = part.pin1 {
                    let plus = p1 + (p1 - part.body.center) / max(length2(p1 - part.body.center), 1) * 1.6 * s
                    placeText("+", at: plus, height: textHeight, stroke: strokeW, vertical: false, centred: true)
                }
            }
            // Designator next to the part.
            if rng.chance(0.8) {
                let vertical = part.vertical && rng.chance(0.6)
                let tw = StrokeFont.width(of: part.refdes, height: textHeight)
                let size = vertical ? Vec2(textHeight, tw) : Vec2(tw, textHeight)
                let fp = part.footprint
                let gap = 0.5 * s + strokeW
                var spots = [Vec2(fp.center.x, fp.y0 - gap - size.y / 2), Vec2(fp.center.x, fp.y1 + gap + size.y / 2),
                             Vec2(fp.x0 - gap - size.x / 2, fp.center.y), Vec2(fp.x1 + gap + size.x / 2, fp.center.y)]
                let first = rng.int(0...3)
                spots = Array(spots[first...] + spots[..<first])
                for c in spots {
                    if placeText(part.refdes, at: c, height: textHeight, stroke: strokeW, vertical: vertical, centred: true) { break }
                }
            }
        }
        // Board markings.
        for _ in 0..<rng.int(0...3) {
            let text = rng.pick(["REV", "V", "PCB-", "R", "MAIN", "CTRL", "PWR", "LED", "GND", "VCC", "3V3", "5V"]) +
                (rng.chance(0.7) ? String(rng.int(1...9)) + (rng.chance(0.5) ? "." + String(rng.int(0...9)) : "") : "")
            let h = textHeight * rng.uniform(1.0, 1.8)
            for _ in 0..<6 {
                if placeText(text, at: randomPoint(in: layout.view), height: h, stroke: max(1.0, h * 0.13), vertical: rng.chance(0.2), centred: true) { break }
            }
        }
    }

    private mutating func addSilkOutlineIfClear(_ box: Box, style: Int, allowOverOwn part: Part? = nil) {
        // The outline must not cross pads of other parts or other ink.
        let edgeBoxes = [Box(box.x0, box.y0, box.x1, box.y0), Box(box.x1, box.y0, box.x1, box.y1),
                         Box(box.x0, box.y1, box.x1, box.y1), Box(box.x0, box.y0, box.x0, box.y1)].map { $0.outset(0.25 * s) }
        for e in edgeBoxes {
            if layout.pads.contains(where: { $0.box.outset(0.2 * s).intersects(e) }) { return }
            if layout.parts.contains(where: { $0.body.intersects(e) && $0.body != part?.body }) { return }
            if layout.silkBoxes.contains(where: { $0.intersects(e) }) { return }
        }
        addSilkOutline(box, style: style)
    }

    @discardableResult
    private mutating func placeText(_ text: String, at c: Vec2, height: Float, stroke: Float, vertical: Bool, centred: Bool) -> Bool {
        let tw = StrokeFont.width(of: text, height: height)
        let size = vertical ? Vec2(height, tw) : Vec2(tw, height)
        let box = Box(center: c, half: size / 2).outset(stroke)
        guard silkClear(box) else { return false }
        let origin = vertical ? Vec2(c.x - size.x / 2, c.y + size.y / 2) : Vec2(c.x - size.x / 2, c.y - size.y / 2)
        for stroke in StrokeFont.strokes(text, origin: origin, height: height, vertical: vertical) {
            layout.silk.append(SilkStroke(points: stroke, width: max(1.0, height * 0.14)))
        }
        layout.silkBoxes.append(box)
        return true
    }
}

private extension Box {
    static func * (b: Box, k: Float) -> Box { Box(b.x0 * k, b.y0 * k, b.x1 * k, b.y1 * k) }
}
