// Drawing a layout: copper under the mask, the mask itself, exposed metal, silkscreen,
// solder joints and parts, with the planned defects drawn at their stage and recorded.

import Foundation
import SeededRandom

final class BoardPainter {
    let layout: BoardLayout
    let canvas: Canvas
    let copper: Plane
    private let s: Float
    private let style: BoardStyle
    private var defects: [PlannedDefect] = []
    /// Visibility mask per planned defect (nil until drawn).
    private(set) var masks: [DefectMask?] = []
    private var jointDefect: [Int: Int] = [:]   // part * 1000 + joint -> defect
    private var missingDefect: [Int: Int] = [:]  // part -> defect

    init(layout: BoardLayout) {
        self.layout = layout
        s = layout.pixelsPerMM
        style = layout.style
        canvas = Canvas(width: layout.canvasWidth, height: layout.canvasHeight)
        copper = Plane(width: layout.canvasWidth, height: layout.canvasHeight)
    }

    // MARK: Stage 1: copper under the mask (before defects are planned)

    func buildCopper() {
        for trace in layout.traces { copper.add(PolylineShape(points: trace.points, radius: trace.radius)) }
        for pad in layout.pads { copper.add(AnyShape(pad.shape)) }
        for via in layout.vias { copper.add(CircleShape(center: via.center, radius: via.radius)) }
        for hole in layout.holes { copper.add(CircleShape(center: hole.center, radius: hole.ring)) }
        guard !layout.pours.isEmpty else { return }
        let g = layout.pourClearance
        let keep = Plane(width: copper.width, height: copper.height)
        for trace in layout.traces { keep.add(PolylineShape(points: trace.points, radius: trace.radius + g)) }
        for pad in layout.pads { keep.add(RectShape(pad.box.outset(g), radius: g)) }
        for via in layout.vias { keep.add(CircleShape(center: via.center, radius: via.radius + g)) }
        for f in layout.fiducials { keep.add(CircleShape(center: f.center, radius: f.clearance + g)) }
        for hole in layout.holes { keep.add(CircleShape(center: hole.center, radius: hole.ring + g)) }
        let pour = Plane(width: copper.width, height: copper.height)
        for polygon in layout.pours { pour.add(PolygonShape(points: polygon)) }
        // Stitching vias inside a pour connect to it (no clearance ring).
        for i in 0..<(copper.width * copper.height) {
            let v = pour.data[i] * (1 - keep.data[i])
            if v > copper.data[i] { copper.data[i] = v }
        }
        for via in layout.vias where pour.sample(via.center) > 0.5 && keep.maximum(in: Box(center: via.center, half: Vec2(1, 1))) > 0 {
            copper.add(CircleShape(center: via.center, radius: via.radius + g + 0.5))
        }
    }

    // MARK: Stage 2: everything else

    func paint(defects planned: [PlannedDefect]) {
        defects = planned
        masks = Array(repeating: nil, count: planned.count)
        for (i, d) in planned.enumerated() {
            switch d.action {
            case .joint(let part, let joint): jointDefect[part * 1000 + joint] = i
            case .missing(let part): missingDefect[part] = i
            default: break
            }
        }
        drawCopperDefects()
        composite()
        drawExposedMetal()
        drawExposedDefects()
        drawSilkscreen()
        drawParts()
        drawDust()
    }

    private func begin(_ i: Int) {
        if let m = masks[i] { canvas.recording = m } else { masks[i] = canvas.beginDefect() }
    }
    private func end() { canvas.endDefect() }

    // MARK: Copper-stage defects (under the mask)

    private func drawCopperDefects() {
        for (i, d) in defects.enumerated() {
            var rng = SplitMix64(seed: d.seed)
            switch d.action {
            case .openCircuit(let c, let axis, let gap, let width, _):
                begin(i)
                let n = Vec2(-axis.y, axis.x), h = width / 2 + 1.5
                let j = { rng.uniform(-0.22, 0.22) * gap }
                let pts = [c - axis * (gap / 2 + j()) - n * h, c - axis * (gap / 2 + j()), c - axis * (gap / 2 + j()) + n * h,
                           c + axis * (gap / 2 + j()) + n * h, c + axis * (gap / 2 + j()), c + axis * (gap / 2 + j()) - n * h]
                copper.erase(PolygonShape(points: pts), record: canvas.recording)
                // The label spans the gap and the broken ends across the trace.
                canvas.record(OrientedRectShape(center: c, half: Vec2(gap / 2 + 1.5, width / 2 + 0.5), axis: axis), strength: 0.5)
                end()
            case .mouseBite(let centers, let radii, let axis, let p, let width):
                begin(i)
                for (c, r) in zip(centers, radii) { copper.erase(CircleShape(center: c, radius: r), record: canvas.recording) }
                // The bitten stretch of trace, edge to edge.
                let along = centers.map { dot2($0 - p, axis) }
                let lo = along.min()!, hi = along.max()!, r = radii.max()!
                canvas.record(OrientedRectShape(center: p + axis * ((lo + hi) / 2), half: Vec2((hi - lo) / 2 + r, width / 2), axis: axis), strength: 0.5)
                end()
            case .spur(let points, let axis, let width):
                begin(i)
                copper.add(PolygonShape(points: points), record: canvas.recording)
                let base = (points[0] + points[points.count - 1]) / 2
                canvas.record(OrientedRectShape(center: base, half: Vec2(length2(points[0] - points[points.count - 1]) / 2 + 1, 1.5), axis: axis), strength: 0.5)
                _ = width
                end()
            case .short(let points, let radius, let exposed) where !exposed:
                begin(i)
                copper.add(PolylineShape(points: points, radius: radius), record: canvas.recording)
                recordLinkContext(points, radius: radius)
                end()
            case .spuriousCopper(let shape, let exposed) where !exposed:
                begin(i)
                copper.add(AnyShape(shape), record: canvas.recording)
                end()
            case .pinHole(let c, let r, let onPad) where !onPad:
                begin(i)
                copper.erase(CircleShape(center: c, radius: r), record: canvas.recording)
                end()
            default: break
            }
        }
    }

    // MARK: Mask, board edge and background

    private func composite() {
        let cb = copper.blurred(radius: 1, passes: 1)
        let w = canvas.width, h = canvas.height
        let seed = style.textureSeed
        let boardShape = RectShape(layout.board, radius: layout.boardCorner)
        let edgeVisible = !layout.board.contains(Box(0, 0, Float(w), Float(h)))
        let lx = Int((style.light.x * 1.5).rounded()), ly = Int((style.light.y * 1.5).rounded())
        let relief = style.relief
        let shadowLen = 1.6 * s * 0.5
        for y in 0..<h {
            for x in 0..<w {
                let p = Vec2(Float(x) + 0.5, Float(y) + 0.5)
                let c = cb[x, y]
                let xa = min(max(x - lx, 0), w - 1), ya = min(max(y - ly, 0), h - 1)
                let xb = min(max(x + lx, 0), w - 1), yb = min(max(y + ly, 0), h - 1)
                let e = cb[xa, ya] - cb[xb, yb]
                let tex = 1 + 0.07 * Noise.fractal(p, scale: 45, seed: seed) + 0.03 * Noise.grain(p, seed: seed &+ 1)
                    + 0.035 * Noise.value(p, scale: 220, seed: seed &+ 2)
                var col = mix(style.mask, style.maskOverCopper, c) * tex
                let lum = (col.x + col.y + col.z) / 3
                col += Colour(1, 1, 1) * (e * relief * (0.05 + 0.22 * lum))
                guard edgeVisible else { canvas.px[y * w + x] = col; continue }
                let d = boardShape.distance(p)
                if d < 0.6 * s * 0.3 + 1 {
                    // Bare laminate strip along the routed edge.
                    let strip = smoothstep(-0.45 * s, -0.15 * s, d)
                    col = mix(col, style.laminate * (0.85 + 0.1 * Noise.grain(p, seed: seed &+ 3)), strip * 0.9)
                }
                let inside = clamp01(0.5 - d)
                if inside >= 1 { canvas.px[y * w + x] = col; continue }
                var bg = style.background
                if style.backgroundIsMetal {
                    bg *= 1 + 0.08 * Noise.value(Vec2(p.x * 0.05, p.y * 3), scale: 1, seed: seed &+ 4) + 0.04 * Noise.grain(p, seed: seed &+ 5)
                } else {
                    bg *= 1 + 0.12 * Noise.fractal(p, scale: 12, seed: seed &+ 4) + 0.08 * Noise.grain(p, seed: seed &+ 5)
                }
                // The board casts a shadow onto the belt, away from the light.
                let back = boardShape.distance(p - style.light * shadowLen)
                bg *= 1 - 0.55 * clamp01(0.5 - back / 3)
                canvas.px[y * w + x] = mix(bg, col, inside)
            }
        }
    }

    // MARK: Exposed metal: pads, vias, fiducials, holes

    func finishColour(_ p: Vec2, seed: UInt64, size: Float, centre: Vec2) -> Colour {
        let sd = UInt32(truncatingIfNeeded: seed)
        let base = style.finishColour
        switch style.finish {
        case .hasl:
            let n = Noise.value(p, scale: max(2.5, size * 0.45), seed: sd)
            let r = min(1, length2(p - centre) / max(size * 0.6, 1))
            let spec = 0.3 * smoothstep(0.72, 0.95, n)
            return base * (0.8 + 0.22 * n - 0.12 * r * r + 0.03 * Noise.grain(p, seed: sd &+ 1)) + Colour(1, 1, 1) * spec
        case .enig:
            let g = dot2(p - centre, style.light) / max(size, 1)
            return base * (0.93 + 0.05 * Noise.fractal(p, scale: 6, seed: sd) + 0.03 * Noise.grain(p, seed: sd &+ 1) - 0.06 * g)
        case .osp:
            let ox = Noise.value(p, scale: 5, seed: sd)
            return mix(base, Colour(0.62, 0.36, 0.32), 0.35 * smoothstep(0.5, 0.9, ox)) * (0.92 + 0.04 * Noise.grain(p, seed: sd &+ 1))
        }
    }

    private func drawExposedMetal() {
        let ring = mix(style.laminate * 0.75, style.mask * 0.85, 0.45)
        for pad in layout.pads {
            canvas.paint(RectShape(pad.box.outset(pad.opening), radius: pad.round ? pad.box.width / 2 + pad.opening : pad.opening + 0.5), colour: ring)
            let size = min(pad.box.width, pad.box.height), c = pad.box.center
            canvas.paint(AnyShape(pad.shape)) { self.finishColour($0, seed: pad.seed, size: size, centre: c) }
        }
        for (k, via) in layout.vias.enumerated() {
            let seed = UInt64(k) &* 7919 &+ UInt64(style.textureSeed)
            if style.tentedVias {
                canvas.darken(CircleShape(center: via.center, radius: via.drill * 1.1), factor: Colour(0.62, 0.62, 0.62), soft: 1.6)
                canvas.paint(RingShape(center: via.center - style.light * 0.4, radius: via.radius * 0.75, halfWidth: 0.5), colour: style.maskOverCopper * 1.15, alpha: 0.35)
            } else {
                canvas.paint(CircleShape(center: via.center, radius: via.radius)) { self.finishColour($0, seed: seed, size: via.radius * 2, centre: via.center) }
                canvas.paint(CircleShape(center: via.center, radius: via.drill)) { p in
                    let t = length2(p - via.center) / via.drill
                    return grey(0.05 + 0.12 * t * t)
                }
            }
        }
        for f in layout.fiducials {
            canvas.paint(CircleShape(center: f.center, radius: f.clearance)) { p in self.style.laminate * (0.9 + 0.05 * Noise.grain(p, seed: 11)) }
            canvas.paint(CircleShape(center: f.center, radius: f.radius)) { self.finishColour($0, seed: 99, size: f.radius * 2, centre: f.center) }
        }
        for hole in layout.holes {
            canvas.paint(CircleShape(center: hole.center, radius: hole.ring)) { self.finishColour($0, seed: 5, size: hole.ring * 2, centre: hole.center) }
            canvas.paint(CircleShape(center: hole.center, radius: hole.drill)) { p in
                let t = length2(p - hole.center) / hole.drill
                return grey(0.04 + 0.1 * t * t * t)
            }
        }
    }

    // MARK: Defects drawn over the mask or on exposed metal

    private func drawExposedDefects() {
        for (i, d) in defects.enumerated() {
            var rng = SplitMix64(seed: d.seed &+ 1)
            switch d.action {
            case .openCircuit(let c, let axis, let gap, let width, let scorched):
                begin(i)
                if scorched {
                    let shape = OrientedRectShape(center: c, half: Vec2(gap * 0.45, width / 2 + 1.2), axis: axis, radius: 1)
                    canvas.paint(shape, alpha: 0.75, soft: 1.5) { p in Colour(0.3, 0.22, 0.13) * (0.8 + 0.4 * Noise.grain(p, seed: 3)) }
                } else {
                    // The mask sinks into the etched gap: a faint shadowed groove.
                    canvas.darken(OrientedRectShape(center: c, half: Vec2(gap * 0.4, width / 2), axis: axis), factor: grey(0.72), alpha: 0.7, soft: 1.5)
                }
                end()
            case .short(let points, let radius, let exposed) where exposed:
                begin(i)
                let metal = rng.chance(0.5) ? style.solder : Colour(0.82, 0.52, 0.36)
                canvas.paint(PolylineShape(points: points, radius: radius)) { p in
                    metal * (0.75 + 0.35 * Noise.value(p, scale: 1.5, seed: 17))
                }
                recordLinkContext(points, radius: radius)
                end()
            case .spuriousCopper(let shape, let exposed) where exposed:
                begin(i)
                let b = shape.bounds
                let colour = rng.chance(0.5) ? Colour(0.8, 0.5, 0.34) : style.finishColour
                canvas.darken(TranslatedShape(shape: AnyShape(shape), offset: style.light * 1.2), factor: grey(0.6), soft: 2)
                canvas.paint(AnyShape(shape)) { p in
                    colour * (0.8 + 0.25 * Noise.value(p, scale: 3, seed: 23) - 0.1 * dot2(p - b.center, self.style.light) / max(b.width, 1))
                }
                end()
            case .pinHole(let c, let r, let onPad):
                begin(i)
                if onPad {
                    canvas.paint(CircleShape(center: c, radius: r + 0.7), colour: style.finishColour * 0.55, alpha: 0.7)
                    canvas.paint(CircleShape(center: c, radius: r)) { p in
                        let t = length2(p - c) / r
                        return Colour(0.12, 0.09, 0.06) * (0.6 + 0.8 * t * t)
                    }
                } else {
                    canvas.darken(CircleShape(center: c, radius: r * 0.6), factor: grey(0.7), soft: 1.2)
                }
                end()
            case .damagedPad(let index):
                begin(i)
                drawDamagedPad(layout.pads[index], rng: &rng)
                end()
            default: break
            }
        }
    }

    /// A short's label also takes in the ends of the two conductors it joins.
    private func recordLinkContext(_ points: [Vec2], radius: Float) {
        let a = points[0], b = points[points.count - 1]
        let len = length2(b - a)
        guard len > 0 else { return }
        canvas.record(OrientedRectShape(center: (a + b) / 2, half: Vec2(len / 2 + 1.5, max(radius + 1.5, 3)), axis: (b - a) / len), strength: 0.5)
    }

    private func drawDamagedPad(_ pad: Pad, rng: inout SplitMix64) {
        let c = pad.box.center, reach = length2(pad.box.half)
        let size = min(pad.box.width, pad.box.height)
        let padShape = AnyShape(pad.shape)
        // Heat-browned laminate around the pad (most of the time).
        if rng.chance(0.7) {
            let burn = BlobShape(center: c + Vec2(rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2)) * reach,
                                 radius: reach * rng.uniform(0.95, 1.25), roughness: 0.3, rng: &rng)
            canvas.paint(burn, alpha: rng.uniform(0.3, 0.65), soft: 2.5) { p in Colour(0.2, 0.13, 0.07) * (0.8 + 0.5 * Noise.value(p, scale: 3, seed: 31)) }
        }
        let angle = rng.uniform(0, 2 * .pi)
        let dir = Vec2(cosf(angle), sinf(angle)), across = Vec2(-dir.y, dir.x)
        let scar: (Vec2) -> Colour = { p in Colour(0.24, 0.16, 0.09) * (0.7 + 0.6 * Noise.grain(p, seed: 29) + 0.2 * Noise.value(p, scale: 2, seed: 30)) }
        switch rng.weighted([0.4, 0.35, 0.25]) {
        case 2:
            // The whole pad lifted and shifted: the scar shows on one side, the pad casts a shadow.
            canvas.paint(padShape, shader: scar)
            let shift = dir * reach * rng.uniform(0.2, 0.4)
            let moved = TranslatedShape(shape: padShape, offset: shift)
            canvas.darken(TranslatedShape(shape: moved, offset: style.light * 2), factor: grey(0.4), soft: 2.5)
            canvas.paint(moved) { p in self.finishColour(p - shift, seed: pad.seed, size: size, centre: c) * Colour(0.88, 0.8, 0.72) }
        default:
            // Part of the pad torn off along a jagged line.
            let cut = c + dir * rng.uniform(-0.3, 0.25) * reach
            var pts: [Vec2] = []
            let n = 7
            for k in 0...n {
                let t = Float(k) / Float(n) * 2 - 1
                pts.append(cut + across * (t * reach * 1.6) + dir * rng.uniform(-0.2, 0.2) * reach)
            }
            pts.append(cut + across * reach * 1.6 + dir * reach * 2.5)
            pts.append(cut - across * reach * 1.6 + dir * reach * 2.5)
            canvas.paint(IntersectionShape(a: padShape, b: PolygonShape(points: pts)), shader: scar)
            if rng.chance(0.5) {
                // The torn piece lies curled beside the pad.
                let centre = c + dir * reach * rng.uniform(0.95, 1.3) + across * rng.uniform(-0.3, 0.3) * reach
                let r = reach * rng.uniform(0.3, 0.5)
                var piece: [Vec2] = []
                let m = rng.int(4...6)
                let base = rng.uniform(0, 2 * .pi)
                for k in 0..<m {
                    let a = base + Float(k) / Float(m) * 2 * .pi + rng.uniform(-0.3, 0.3)
                    piece.append(centre + Vec2(cosf(a), sinf(a) * rng.uniform(0.45, 0.9)) * r * rng.uniform(0.7, 1.2))
                }
                let shape = PolygonShape(points: piece)
                canvas.darken(TranslatedShape(shape: shape, offset: style.light * 1.8), factor: grey(0.4), soft: 2)
                let light = style.light
                canvas.paint(shape) { p in
                    self.finishColour(p, seed: pad.seed &+ 1, size: r * 2, centre: centre) * (0.8 + 0.3 * dot2(p - centre, -light) / r)
                }
            }
        }
    }

    // MARK: Silkscreen

    private func drawSilkscreen() {
        let seed = style.textureSeed &+ 77
        let silk = style.silk
        for stroke in layout.silk {
            canvas.paint(PolylineShape(points: stroke.points, radius: stroke.width / 2), alpha: 0.95, soft: 1.15) { p in
                silk * (0.93 + 0.1 * Noise.value(p, scale: 2, seed: seed))
            }
        }
        for (c, r) in layout.silkDots { canvas.paint(CircleShape(center: c, radius: r), colour: silk, alpha: 0.95, soft: 1.15) }
    }

    // MARK: Parts

    private func drawParts() {
        // Shadows first, so no shadow falls over a neighbour's body.
        for part in layout.parts where part.present {
            let len = min(part.heightMM * s * 0.35, 6 * s)
            let shape = RectShape(part.body, radius: min(part.body.width, part.body.height) * 0.1)
            canvas.darken(TranslatedShape(shape: shape, offset: style.light * len), factor: grey(0.5),
                          alpha: 0.75, soft: 1.5 + part.heightMM * s * 0.12)
        }
        for (index, part) in layout.parts.enumerated() {
            var rng = SplitMix64(seed: part.seed)
            if !part.present {
                drawMissing(part, index: index, rng: &rng)
                continue
            }
            for (j, joint) in part.joints.enumerated() {
                let defect = jointDefect[index * 1000 + j]
                if let defect { begin(defect) }
                drawJoint(joint)
                if defect != nil { end() }
            }
            drawBody(part, rng: &rng)
            for (i, d) in defects.enumerated() {
                if case .bridge(let p, let leads) = d.action, p == index {
                    var brng = SplitMix64(seed: d.seed)
                    begin(i)
                    drawBridge(part, leads: leads, rng: &brng)
                    end()
                }
            }
        }
    }

    // MARK: Solder

    private func drawJoint(_ joint: Joint) {
        // Each joint has its own stream, so a defective joint never changes the rest of the part.
        var rng = SplitMix64(seed: joint.seed)
        let pad = layout.pads[joint.pad]
        let P = pad.box, T = joint.terminal
        let solder = style.solder
        let meniscus = max(1.5, 0.3 * s)
        let sd = UInt32(truncatingIfNeeded: joint.seed)
        switch joint.state {
        case .good:
            let shape = RectShape(P.inset(0.35), radius: min(P.width, P.height) * 0.3)
            canvas.paint(shape) { p in
                let d = T.distance(to: p)
                let t = clamp01(d / meniscus)
                let shade = 0.48 + 0.47 * powf(t, 0.8)
                let spec = 0.4 * expf(-((t - 0.8) * (t - 0.8)) / 0.05) * (0.6 + 0.8 * Noise.value(p, scale: 2.5, seed: sd))
                let edge = min(p.x - P.x0, P.x1 - p.x, p.y - P.y0, P.y1 - p.y)
                let rim: Float = edge < 1.2 ? 0.85 : 1
                return solder * ((shade + 0.04 * Noise.fractal(p, scale: 3, seed: sd &+ 1)) * rim) + Colour(1, 1, 1) * spec * 0.6
            }
        case .cold:
            let padLen = abs(dot2(P.half, joint.outward)) * 2
            let centre = P.center + joint.outward * padLen * rng.uniform(0.05, 0.2)
            let blob = BlobShape(center: centre, radius: 1, stretch: P.half * rng.uniform(1.0, 1.2), roughness: rng.uniform(0.22, 0.38), rng: &rng)
            let tone = rng.uniform(0.42, 0.56)
            canvas.paint(blob) { p in
                let n = Noise.value(p, scale: 1.2, seed: sd) * 0.5 + Noise.value(p, scale: 3, seed: sd &+ 5) * 0.5
                return grey(tone) * Colour(1, 0.99, 0.94) * (0.65 + 0.55 * n + 0.3 * Noise.grain(p, seed: sd &+ 2))
            }
            // Lumps: small shaded bumps over the joint.
            for _ in 0..<rng.int(3...7) {
                let c = Vec2(rng.uniform(P.x0, P.x1), rng.uniform(P.y0, P.y1))
                let r = max(0.9, rng.uniform(0.12, 0.3) * min(P.width, P.height))
                canvas.paint(CircleShape(center: c, radius: r), alpha: 0.85) { p in
                    let shade = 1 - 0.35 * dot2(p - c, -self.style.light) / r
                    return grey(tone * shade) * (0.85 + 0.3 * Noise.grain(p, seed: sd &+ 9))
                }
            }
            // A dark ring where the solder failed to wet the terminal.
            if rng.chance(0.6) {
                canvas.paint(DifferenceShape(a: RectShape(T.outset(1.0)), b: RectShape(T)), colour: grey(0.22), alpha: 0.7)
            }
        case .insufficient:
            let exposedCopper = rng.chance(0.75)
            canvas.paint(AnyShape(pad.shape)) { p in
                if exposedCopper {
                    let ox = Noise.value(p, scale: 3, seed: sd)
                    return mix(Colour(0.8, 0.5, 0.33), Colour(0.55, 0.33, 0.28), 0.5 * ox) * (0.9 + 0.12 * Noise.grain(p, seed: sd &+ 1))
                }
                return self.finishColour(p, seed: pad.seed, size: min(P.width, P.height), centre: P.center) * 0.92
            }
            // Only a thin dull line of solder at the terminal's edge, and the terminal's shadow.
            canvas.paint(RectShape(T.outset(max(0.8, 0.07 * s)), radius: 0.5)) { p in solder * (0.55 + 0.15 * Noise.grain(p, seed: sd &+ 3)) }
            canvas.darken(RectShape(T.offset(self.style.light * max(1, 0.1 * s))), factor: grey(0.55), soft: 1.2)
        }
    }

    private func drawMissing(_ part: Part, index: Int, rng: inout SplitMix64) {
        let defect = missingDefect[index]
        if let defect { begin(defect) }
        if defect != nil { canvas.record(RectShape(part.footprint.inset(0.5))) }
        let style = part.missingStyle
        let paste = grey(rng.uniform(0.52, 0.64))
        for joint in part.joints {
            let P = layout.pads[joint.pad].box
            let sd = UInt32(truncatingIfNeeded: joint.seed)
            if style == 1 {
                // Solder reflowed with nothing on it: shiny domes.
                let c = P.center, half = P.half
                canvas.paint(RectShape(P.inset(0.4), radius: min(P.width, P.height) * 0.45)) { p in
                    let q = (p - c) / half
                    let r2 = min(1, q.x * q.x + q.y * q.y)
                    let spot = expf(-length2(q + self.style.light * 0.35) * length2(q + self.style.light * 0.35) / 0.06)
                    return self.style.solder * (0.55 + 0.4 * (1 - r2)) + Colour(1, 1, 1) * 0.45 * spot
                }
            } else {
                let offset = Vec2(rng.uniform(-0.12, 0.12) * P.width, rng.uniform(-0.12, 0.12) * P.height)
                canvas.paint(RectShape(P.inset(min(P.width, P.height) * 0.08).offset(offset), radius: 0.6)) { p in
                    paste * (0.78 + 0.45 * Noise.grain(p, seed: sd) + 0.1 * Noise.value(p, scale: 2, seed: sd &+ 1))
                }
            }
        }
        if style == 2 {
            let c = part.body.center, r = max(1.2, min(part.body.width, part.body.height) * 0.28)
            let glue = rng.chance(0.6) ? Colour(0.75, 0.18, 0.1) : Colour(0.85, 0.6, 0.12)
            canvas.paint(CircleShape(center: c, radius: r), soft: 1.3) { p in
                glue * (0.8 + 0.3 * (1 - length2(p - c) / r)) + Colour(1, 1, 1) * (0.2 * expf(-length2(p - c + self.style.light * r * 0.4) / (0.3 * r)))
            }
        }
        if defect != nil { end() }
    }

    private func drawBridge(_ part: Part, leads: [Int], rng: inout SplitMix64) {
        let feet = leads.map { part.leads[$0].foot }
        let out = part.leads[leads[0]].outward
        let footLen = abs(dot2(feet[0].half * 2, out))
        let shift = out * rng.uniform(-0.05, 0.3) * footLen
        let a = feet[0].center + shift, b = feet[feet.count - 1].center + shift
        let t = max(1.5, footLen * rng.uniform(0.2, 0.34))
        let axis = (b - a) / max(length2(b - a), 1e-3), nrm = Vec2(-axis.y, axis.x)
        // A lumpy body of solder: a thin core plus beads of varying size along it.
        var parts: [any Shape] = [CapsuleShape(a: a, b: b, radius: t * 0.75)]
        let span = length2(b - a)
        let beads = max(2, Int(span / (t * 0.9)))
        for k in 0...beads {
            let u = Float(k) / Float(beads)
            let c = a + (b - a) * u + nrm * rng.uniform(-0.25, 0.25) * t + out * rng.uniform(-0.15, 0.15) * t
            parts.append(CircleShape(center: c, radius: t * rng.uniform(0.8, 1.25)))
        }
        for k in 0..<(feet.count - 1) {
            let m = (feet[k].center + feet[k + 1].center) / 2 + shift + out * rng.uniform(-0.2, 0.3) * t
            parts.append(BlobShape(center: m, radius: t * rng.uniform(1.0, 1.4), roughness: 0.2, rng: &rng))
        }
        let shape = UnionShape(parts: parts)
        let solder = style.solder * rng.uniform(0.9, 1.0)
        let light = style.light
        let sd = UInt32(truncatingIfNeeded: rng.next())
        canvas.darken(TranslatedShape(shape: shape, offset: light * 1.2), factor: grey(0.55), soft: 2)
        canvas.paint(shape) { p in
            let d = -shape.distance(p)
            let dome = clamp01(d / (t * 0.9))
            let g = dot2(p - (a + b) / 2, -light) / (span / 2 + t)
            let spec = smoothstep(0.6, 0.9, Noise.value(p, scale: max(2, t * 1.2), seed: sd)) * dome
            return solder * (0.42 + 0.4 * dome.squareRoot() + 0.12 * g) + Colour(1, 1, 1) * 0.45 * spec
        }
    }

    // MARK: Bodies

    private func metal(_ p: Vec2, base: Float, seed: UInt32) -> Colour {
        Colour(0.95, 0.96, 1.0) * (base + 0.05 * Noise.fractal(p, scale: 2.5, seed: seed) + 0.03 * Noise.grain(p, seed: seed &+ 1))
    }

    private func drawBody(_ part: Part, rng: inout SplitMix64) {
        let b = part.body
        let sd = UInt32(truncatingIfNeeded: part.seed)
        let light = style.light
        func shaded(_ colour: Colour, grain: Float = 0.05) -> (Vec2) -> Colour {
            { p in
                let g = dot2(p - b.center, -light) / max(b.width, b.height)
                return colour * (1 + 0.12 * g + grain * Noise.fractal(p, scale: 2.5, seed: sd) + 0.03 * Noise.grain(p, seed: sd &+ 1))
            }
        }
        switch part.kind {
        case .chip(let kind):
            let body: Colour
            switch kind {
            case .resistor: body = grey(rng.uniform(0.06, 0.12))
            case .capacitor: body = rng.pick([Colour(0.72, 0.6, 0.44), Colour(0.6, 0.46, 0.3), Colour(0.5, 0.48, 0.44), Colour(0.78, 0.7, 0.55)])
            case .inductor: body = grey(rng.uniform(0.18, 0.3))
            case .ferrite: body = grey(rng.uniform(0.12, 0.2))
            }
            canvas.paint(RectShape(b, radius: 0.5), shader: shaded(body))
            if kind == .resistor {
                let capLen = abs(dot2(part.joints[0].terminal.half * 2, part.joints[0].outward))
                let inner = part.vertical ? Box(b.x0, b.y0 + capLen, b.x1, b.y1 - capLen) : Box(b.x0 + capLen, b.y0, b.x1 - capLen, b.y1)
                drawMarking(code: resistorCode(&rng), in: inner.inset(min(b.width, b.height) * 0.14), vertical: part.vertical, colour: grey(0.82), rng: &rng)
            }
            for joint in part.joints {
                canvas.paint(RectShape(joint.terminal, radius: 0.5)) { p in
                    let t = clamp01(dot2(p - joint.terminal.center, joint.outward) / max(1, abs(dot2(joint.terminal.half, joint.outward))) * 0.5 + 0.5)
                    return self.metal(p, base: 0.62 + 0.14 * t, seed: sd &+ 3)
                }
            }
        case .tantalum:
            let body = rng.chance(0.75) ? Colour(0.88, 0.62, 0.13) : grey(0.1)
            canvas.paint(RectShape(b, radius: 1), shader: shaded(body))
            if let p1 = part.pin1 {
                let axis = (b.center - p1) / max(length2(b.center - p1), 1)
                let bandC = p1 + axis * (0.26 * (part.vertical ? b.height : b.width))
                let half = part.vertical ? Vec2(b.width / 2 - 0.5, 0.08 * b.height) : Vec2(0.08 * b.width, b.height / 2 - 0.5)
                canvas.paint(RectShape(Box(center: bandC, half: half)), colour: body.x > 0.5 ? Colour(0.5, 0.3, 0.05) : grey(0.55))
            }
            for joint in part.joints { canvas.paint(RectShape(joint.terminal)) { self.metal($0, base: 0.7, seed: sd) } }
        case .led:
            canvas.paint(RectShape(b, radius: 0.6), shader: shaded(Colour(0.9, 0.89, 0.84), grain: 0.02))
            let lens = b.inset(min(b.width, b.height) * 0.14)
            let tint = rng.pick([Colour(0.93, 0.86, 0.5), Colour(0.86, 0.86, 0.8), Colour(0.9, 0.75, 0.55)])
            canvas.paint(RectShape(lens, radius: 1), shader: shaded(tint, grain: 0.02))
            let die = min(lens.width, lens.height) * 0.3
            canvas.paint(RectShape(Box(center: lens.center, half: Vec2(die, die) / 2)), colour: Colour(0.35, 0.3, 0.2))
            if let p1 = part.pin1 {
                let axis = (b.center - p1) / max(length2(b.center - p1), 1)
                let c = p1 + axis * (0.2 * max(b.width, b.height))
                let half = part.vertical ? Vec2(b.width / 2 - 0.3, 0.6) : Vec2(0.6, b.height / 2 - 0.3)
                canvas.paint(RectShape(Box(center: c, half: half)), colour: Colour(0.2, 0.55, 0.3))
            }
            for joint in part.joints { canvas.paint(RectShape(joint.terminal)) { self.metal($0, base: 0.7, seed: sd) } }
        case .ic(let package):
            drawLeads(part)
            let body = grey(rng.uniform(0.09, 0.16))
            canvas.paint(RectShape(b, radius: max(0.8, 0.15 * s)), shader: shaded(body, grain: 0.07))
            // Top face slightly inset: the moulded bevel catches the light on one side.
            let bevel = max(1, 0.22 * s)
            canvas.paint(DifferenceShape(a: RectShape(b, radius: max(0.8, 0.15 * s)), b: RectShape(b.inset(bevel))), alpha: 0.5) { p in
                body * (1 + 0.5 * dot2((p - b.center) / b.half, -light))
            }
            if let p1 = part.pin1 {
                let r = max(1.2, (package == .qfp ? 0.5 : 0.4) * s)
                canvas.paint(CircleShape(center: p1, radius: r), colour: body * 0.65, soft: 1.2)
                canvas.paint(RingShape(center: p1 + light * 0.4, radius: r, halfWidth: 0.5), colour: body * 1.6, alpha: 0.5)
            }
            if package == .qfp {
                for k in 0..<3 where rng.chance(0.6) {
                    let corner = [Vec2(b.x1, b.y0), Vec2(b.x1, b.y1), Vec2(b.x0, b.y1)][k]
                    let c = corner + (b.center - corner) * 0.18
                    canvas.paint(CircleShape(center: c, radius: 0.6 * s), colour: body * 0.82, soft: 1.5)
                }
            }
            let lines = rng.int(1...3)
            let long = max(b.width, b.height), short = min(b.width, b.height)
            let textH = min(short * rng.uniform(0.1, 0.15), 0.9 * s)
            if textH >= 3.5 {
                var y = -Float(lines - 1) / 2 * textH * 1.6
                for _ in 0..<lines {
                    let maxChars = max(2, Int(long * 0.75 / (textH * 5.6 / 6)))
                    let text = randomMarking(&rng, length: min(maxChars, rng.int(4...10)))
                    let c = b.center + (part.vertical ? Vec2(y, 0) : Vec2(0, y))
                    drawText(text, centre: c, height: textH, vertical: part.vertical, colour: grey(min(0.5, body.x + rng.uniform(0.15, 0.3))), alpha: 0.75)
                    y += textH * 1.6
                }
            }
        case .sot23, .sod123:
            drawLeads(part)
            let body = grey(rng.uniform(0.07, 0.13))
            canvas.paint(RectShape(b, radius: 0.8), shader: shaded(body))
            if case .sod123 = part.kind, let p1 = part.pin1 {
                let axis = (b.center - p1) / max(length2(b.center - p1), 1)
                let c = p1 + axis * (0.2 * max(b.width, b.height))
                let half = part.vertical ? Vec2(b.width / 2, 0.35 * s) : Vec2(0.35 * s, b.height / 2)
                canvas.paint(RectShape(Box(center: c, half: half)), colour: grey(0.6))
            }
            let textH = min(b.width, b.height) * 0.42
            if textH >= 3.5 {
                drawText(randomMarking(&rng, length: rng.int(2...3)), centre: b.center, height: textH, vertical: part.vertical, colour: grey(0.6), alpha: 0.8)
            }
        case .electrolytic:
            drawElectrolytic(part, rng: &rng)
        case .header(let rows, let columns):
            canvas.paint(RectShape(b, radius: 0.8), shader: shaded(grey(rng.uniform(0.06, 0.1))))
            let pitchX = b.width / Float(columns), pitchY = b.height / Float(rows)
            let half = 0.32 * s
            let gold = rng.chance(0.7) ? Colour(0.88, 0.7, 0.32) : Colour(0.8, 0.8, 0.82)
            for r in 0..<rows {
                for c in 0..<columns {
                    let centre = Vec2(b.x0 + (Float(c) + 0.5) * pitchX, b.y0 + (Float(r) + 0.5) * pitchY)
                    canvas.paint(RectShape(Box(center: centre, half: Vec2(half * 1.9, half * 1.9)), radius: 1), colour: grey(0.05), alpha: 0.6)
                    canvas.paint(RectShape(Box(center: centre, half: Vec2(half, half)))) { p in
                        let q = p - centre
                        let facet: Vec2 = abs(q.x) > abs(q.y) ? Vec2(q.x > 0 ? 1 : -1, 0) : Vec2(0, q.y > 0 ? 1 : -1)
                        let top = max(abs(q.x), abs(q.y)) < half * 0.35
                        let k: Float = top ? 1.05 : 0.75 - 0.3 * dot2(facet, light)
                        return gold * k
                    }
                }
            }
        case .crystal:
            canvas.paint(RectShape(b, radius: 1), colour: Colour(0.82, 0.77, 0.62))
            let lid = b.inset(0.22 * s)
            canvas.paint(RectShape(lid, radius: 0.35 * s)) { p in
                Colour(0.97, 0.97, 1) * (0.62 + 0.1 * Noise.value(Vec2(p.x * 3, p.y * 0.2), scale: 1, seed: sd) + 0.06 * dot2((p - lid.center) / lid.half, -light))
            }
            let textH = min(lid.width, lid.height) * 0.3
            if textH >= 3.5 { drawText(randomMarking(&rng, length: 4), centre: lid.center, height: textH, vertical: part.vertical, colour: grey(0.3), alpha: 0.7) }
        }
    }

    private func drawLeads(_ part: Part) {
        let sd = UInt32(truncatingIfNeeded: part.seed)
        for lead in part.leads {
            let sh = lead.shoulder, ft = lead.foot, out = lead.outward
            let span = max(1, abs(dot2(sh.half * 2, out)))
            canvas.paint(RectShape(sh)) { p in
                let t = clamp01(dot2(p - sh.center, out) / span + 0.5)
                return self.metal(p, base: 0.42 + 0.3 * t, seed: sd)
            }
            canvas.paint(RectShape(ft, radius: 0.4)) { p in
                let t = clamp01(dot2(p - ft.center, out) / max(1, abs(dot2(ft.half * 2, out))) + 0.5)
                return self.metal(p, base: 0.8 - 0.12 * t * t, seed: sd &+ 2)
            }
        }
    }

    private func drawElectrolytic(_ part: Part, rng: inout SplitMix64) {
        let b = part.body, c = b.center
        let light = style.light
        // Plastic base plate with two chamfered corners on the positive side.
        let p1 = part.pin1 ?? Vec2(b.x0, c.y)
        let toPlus = (p1 - c) / max(length2(p1 - c), 1)
        let k = b.width * 0.22
        var corners = [Vec2(b.x0, b.y0), Vec2(b.x1, b.y0), Vec2(b.x1, b.y1), Vec2(b.x0, b.y1)]
        var poly: [Vec2] = []
        for (i, q) in corners.enumerated() {
            if dot2(q - c, toPlus) > 0 {
                let prev = corners[(i + 3) % 4], next = corners[(i + 1) % 4]
                poly.append(q + (prev - q) / length2(prev - q) * k)
                poly.append(q + (next - q) / length2(next - q) * k)
            } else { poly.append(q) }
        }
        corners = poly
        canvas.paint(PolygonShape(points: corners)) { p in grey(0.1) * (0.9 + 0.15 * Noise.grain(p, seed: 41)) }
        for joint in part.joints { canvas.paint(RectShape(joint.terminal)) { self.metal($0, base: 0.72, seed: 43) } }
        let r = b.width / 2 * 0.93
        let sleeve = rng.pick([Colour(0.08, 0.08, 0.1), Colour(0.08, 0.1, 0.35), Colour(0.1, 0.1, 0.1)])
        canvas.paint(CircleShape(center: c, radius: r)) { p in
            let t = length2(p - c) / r
            let g = dot2(p - c, -light) / r
            let brushed = Noise.value(Vec2(atan2f(p.y - c.y, p.x - c.x) * 40, t * 2), scale: 1, seed: 47)
            return Colour(0.96, 0.97, 1) * (0.78 - 0.18 * t * t + 0.08 * g + 0.05 * brushed)
        }
        // Printed negative marking on the can top, opposite the positive pad.
        canvas.paint(IntersectionShape(a: CircleShape(center: c, radius: r * 0.98),
                                        b: HalfPlaneShape(point: c - toPlus * r * 0.45, normal: toPlus, extent: b)), colour: sleeve * 1.2, alpha: 0.92)
        canvas.paint(RingShape(center: c, radius: r * 0.93, halfWidth: max(0.7, r * 0.05)), colour: grey(0.45), alpha: 0.6)
        let v = r * 0.45
        let vent = rng.chance(0.5) ? [(Vec2(-v, 0), Vec2(v, 0)), (Vec2(0, -v), Vec2(0, v))]
            : [(Vec2(-v, -v) * 0.7, Vec2(v, v) * 0.7), (Vec2(-v, v) * 0.7, Vec2(v, -v) * 0.7)]
        for (a, e) in vent { canvas.paint(CapsuleShape(a: c + a, b: c + e, radius: max(0.6, r * 0.03)), colour: grey(0.35), alpha: 0.8) }
    }

    // MARK: Text

    private func drawText(_ text: String, centre: Vec2, height: Float, vertical: Bool, colour: Colour, alpha: Float) {
        let width = StrokeFont.width(of: text, height: height)
        let origin = vertical ? Vec2(centre.x - height / 2, centre.y + width / 2) : Vec2(centre.x - width / 2, centre.y - height / 2)
        let radius = max(0.45, height * 0.07)
        for stroke in StrokeFont.strokes(text, origin: origin, height: height, vertical: vertical) {
            canvas.paint(PolylineShape(points: stroke, radius: radius), colour: colour, alpha: alpha, soft: 1.1)
        }
    }

    private func drawMarking(code: String, in box: Box, vertical: Bool, colour: Colour, rng: inout SplitMix64) {
        let h = vertical ? min(box.width, box.height / (Float(code.count) * 0.95)) : min(box.height, box.width / (Float(code.count) * 0.95))
        if h >= 3.2 { drawText(code, centre: box.center, height: h, vertical: vertical, colour: colour, alpha: 0.85) }
    }

    private func resistorCode(_ rng: inout SplitMix64) -> String {
        rng.chance(0.3) ? String(rng.int(10...99)) + rng.pick(["R", "0", "1", "2", "3", "4"]) + (rng.chance(0.5) ? String(rng.int(0...9)) : "")
            : String(rng.int(10...99)) + String(rng.int(0...5))
    }

    private func randomMarking(_ rng: inout SplitMix64, length: Int) -> String {
        let chars = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
        return String((0..<length).map { _ in chars[rng.int(0...(chars.count - 1))] })
    }

    // MARK: Dust

    private func drawDust() {
        for (c, size, seed) in layout.dust {
            var rng = SplitMix64(seed: seed)
            if rng.chance(0.5) {
                let a = rng.uniform(0, .pi)
                let d = Vec2(cosf(a), sinf(a)) * size * s * 0.8
                canvas.paint(PolylineShape(points: [c - d, c + Vec2(-d.y, d.x) * 0.2, c + d], radius: 0.45), colour: grey(0.75), alpha: 0.45, occludes: false)
            } else {
                canvas.paint(CircleShape(center: c, radius: max(0.6, size * 0.4)), colour: grey(rng.uniform(0.2, 0.8)), alpha: 0.5, soft: 1.3, occludes: false)
            }
        }
    }
}

@inline(__always) func mix3(_ a: Vec2, _ b: Vec2, _ t: Float) -> Vec2 { a + (b - a) * t }
