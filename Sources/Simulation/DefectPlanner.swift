// Choosing where defects go on a layout: each class finds a fitting target (a trace, a
// joint, a bare pad, free board), stays inside the region every camera sees, and keeps
// clear of the other defects and of anything that would hide it.

import Foundation
import SeededRandom

/// Which defects a render should contain.
public enum DefectRequest: Sendable, Equatable, Hashable {
    /// Defects drawn at random following the renderer's defect rate (the dataset default).
    case random
    /// A defect-free board.
    case none
    /// These classes, in this order (a class that finds no place on the layout is left out;
    /// the returned labels say what was drawn).
    case classes([DefectClass])
}

enum DefectAction {
    case missing(part: Int)
    case openCircuit(center: Vec2, axis: Vec2, gap: Float, width: Float, scorched: Bool)
    case short(points: [Vec2], radius: Float, exposed: Bool)
    case joint(part: Int, joint: Int)
    case bridge(part: Int, leads: [Int])
    case damagedPad(pad: Int)
    case spuriousCopper(shape: any Shape, exposed: Bool)
    case mouseBite(centers: [Vec2], radii: [Float], axis: Vec2, traceCentre: Vec2, width: Float)
    case spur(points: [Vec2], axis: Vec2, trace: Float)
    case pinHole(center: Vec2, radius: Float, onPad: Bool)
}

struct PlannedDefect {
    var defectClass: DefectClass
    var action: DefectAction
    /// Conservative board-space extent (for keeping defects apart).
    var region: Box
    var seed: UInt64
}

struct DefectPlanner {
    private var rng: SplitMix64
    private(set) var layout: BoardLayout
    private let copper: Plane
    private(set) var planned: [PlannedDefect] = []
    private let s: Float

    init(seed: UInt64, layout: BoardLayout, copper: Plane) {
        rng = SplitMix64(seed: seed)
        self.layout = layout
        self.copper = copper
        s = layout.pixelsPerMM
    }

    mutating func plan(_ request: DefectRequest, rate: Double, maxCount: Int) {
        switch request {
        case .none:
            return
        case .classes(let classes):
            for c in classes { _ = place(c) }
        case .random:
            guard Double(rng.unit()) < rate, maxCount > 0 else { return }
            let count = min(maxCount, 1 + rng.weighted([0.42, 0.3, 0.17, 0.11]))
            var attempts = 0
            while planned.count < count && attempts < count * 4 {
                attempts += 1
                _ = place(DefectClass.allCases[rng.int(0...(DefectClass.allCases.count - 1))])
            }
        }
    }

    // MARK: Placement per class

    private mutating func place(_ c: DefectClass) -> Bool {
        for _ in 0..<40 {
            let seed = rng.next()
            let found: (DefectAction, Box)?
            switch c {
            case .missingComponent: found = missing()
            case .openCircuit: found = openCircuit()
            case .short: found = short()
            case .coldJoint: found = joint(.cold)
            case .insufficientSolder: found = joint(.insufficient)
            case .solderBridge: found = bridge()
            case .damagedPad: found = damagedPad()
            case .spuriousCopper: found = spuriousCopper()
            case .mouseBite: found = mouseBite()
            case .spur: found = spur()
            case .pinHole: found = pinHole()
            }
            guard let (action, region) = found else { continue }
            // Commit layout changes only for the accepted candidate.
            switch action {
            case .missing(let part):
                layout.parts[part].present = false
                layout.parts[part].missingStyle = rng.int(0...2)
            case .joint(let part, let joint):
                layout.parts[part].joints[joint].state = c == .coldJoint ? .cold : .insufficient
            default: break
            }
            planned.append(PlannedDefect(defectClass: c, action: action, region: region, seed: seed))
            return true
        }
        return false
    }

    /// Is the box visible under every camera, on the board, and clear of other defects?
    private func fits(_ box: Box) -> Bool {
        layout.safe.contains(box) && layout.board.inset(0.8 * s).contains(box)
            && !planned.contains { $0.region.outset(4).intersects(box) }
    }

    /// Nothing drawn over the copper (parts, pads, vias, silkscreen, fiducials) touches the box.
    private func clearOfStuff(_ box: Box, allowPads: Set<Int> = []) -> Bool {
        guard fits(box) else { return false }
        if layout.parts.contains(where: { $0.footprint.outset(0.25 * s).intersects(box) }) { return false }
        for (i, pad) in layout.pads.enumerated() where !allowPads.contains(i) && pad.box.outset(pad.opening + 1).intersects(box) { return false }
        if layout.vias.contains(where: { Box(center: $0.center, half: Vec2($0.radius + 1, $0.radius + 1)).intersects(box) }) { return false }
        if layout.silkBoxes.contains(where: { $0.outset(1).intersects(box) }) { return false }
        if layout.fiducials.contains(where: { Box(center: $0.center, half: Vec2($0.clearance + 1, $0.clearance + 1)).intersects(box) }) { return false }
        if layout.holes.contains(where: { Box(center: $0.center, half: Vec2($0.ring + 2, $0.ring + 2)).intersects(box) }) { return false }
        return true
    }

    /// Distance from p to the nearest copper edge other than trace `except` (traces, pads, vias).
    private func otherCopperDistance(_ p: Vec2, except: Int?) -> Float {
        var best = Float.greatestFiniteMagnitude
        for (i, t) in layout.traces.enumerated() where i != except {
            for k in 0..<(t.points.count - 1) { best = min(best, segmentDistance(p, t.points[k], t.points[k + 1]) - t.radius) }
        }
        for pad in layout.pads { best = min(best, pad.box.distance(to: p)) }
        for via in layout.vias { best = min(best, length2(p - via.center) - via.radius) }
        return best
    }

    /// A random point on a straight stretch of a trace at least `minWidth` wide.
    private mutating func tracePoint(minWidth: Float, margin: Float) -> (trace: Int, p: Vec2, axis: Vec2, width: Float)? {
        let candidates = layout.traces.indices.filter { layout.traces[$0].width >= minWidth }
        guard !candidates.isEmpty else { return nil }
        let t = rng.pick(candidates)
        let trace = layout.traces[t]
        let k = rng.int(0...(trace.points.count - 2))
        let a = trace.points[k], b = trace.points[k + 1]
        let len = length2(b - a)
        let m = margin + trace.width
        guard len > 2 * m else { return nil }
        let axis = (b - a) / len
        return (t, a + axis * rng.uniform(m, len - m), axis, trace.width)
    }

    private mutating func missing() -> (DefectAction, Box)? {
        let candidates = layout.parts.indices.filter {
            let p = layout.parts[$0]
            return p.present && p.isSmallPart && p.footprint.width <= 75 * s / 10 * 1.6 && p.footprint.height <= 75 * s / 10 * 1.6
        }
        guard !candidates.isEmpty else { return nil }
        let i = rng.pick(candidates)
        let region = layout.parts[i].footprint.outset(1.5)
        guard fits(region) else { return nil }
        return (.missing(part: i), region)
    }

    private mutating func openCircuit() -> (DefectAction, Box)? {
        let gap = max(5, rng.uniform(0.5, 1.4) * s)
        guard let (t, p, axis, w) = tracePoint(minWidth: max(3, 0.25 * s), margin: gap / 2 + 3) else { return nil }
        let reach = gap / 2 + 2, across = w / 2 + 2
        let region = OrientedRectShape(center: p, half: Vec2(reach, across), axis: axis).bounds
        guard clearOfStuff(region), otherCopperDistance(p, except: t) > across + 2 else { return nil }
        return (.openCircuit(center: p, axis: axis, gap: gap, width: w, scorched: rng.chance(0.3)), region)
    }

    private mutating func mouseBite() -> (DefectAction, Box)? {
        let minW = max(5, 0.4 * s)
        let n = rng.int(1...4)
        var offsets: [Float] = [], radii: [Float] = []
        var along: Float = 0
        let widthGuess = minW * 1.3
        for _ in 0..<n {
            let r = max(1.8, rng.uniform(0.32, 0.55) * widthGuess)
            if !offsets.isEmpty { along += r + rng.uniform(0.5, 1.2) * r + rng.uniform(0, 0.6) * s }
            offsets.append(along); radii.append(r)
            along += r
        }
        guard let (t, p, axis, w) = tracePoint(minWidth: minW, margin: along / 2 + 3) else { return nil }
        let nrm = Vec2(-axis.y, axis.x)
        let oneSide = rng.chance(0.7)
        var side = rng.sign()
        var centers: [Vec2] = []
        for k in 0..<n {
            if !oneSide && k > 0 { side = rng.sign() }
            let r = min(max(radii[k], rng.uniform(0.4, 0.6) * w), 0.62 * w)
            radii[k] = r
            centers.append(p + axis * (offsets[k] - along / 2) + nrm * side * (w / 2 + r * rng.uniform(-0.1, 0.15)))
        }
        let region = zip(centers, radii).map { Box(center: $0, half: Vec2($1, $1)) }.reduce(Box(center: p, half: Vec2(1, 1))) { $0.union($1) }.outset(1.5)
        guard clearOfStuff(region), otherCopperDistance(p, except: t) > w / 2 + 3 else { return nil }
        return (.mouseBite(centers: centers, radii: radii, axis: axis, traceCentre: p, width: w), region)
    }

    private mutating func spur() -> (DefectAction, Box)? {
        guard let (t, p, axis, w) = tracePoint(minWidth: 2.5, margin: 5) else { return nil }
        let nrm = Vec2(-axis.y, axis.x) * rng.sign()
        let halfBase = max(2, rng.uniform(0.5, 1.0) * w)
        let length = max(6, rng.uniform(0.7, 1.6) * s)
        let angle = rng.uniform(-0.6, 0.6)
        let dir = nrm * cosf(angle) + axis * sinf(angle)
        let base = p + nrm * (w / 2 - 0.8)
        let tip = base + dir * length
        let bend = rng.uniform(-0.25, 0.25) * length
        let mid = base + dir * (length * 0.55) + Vec2(-dir.y, dir.x) * bend * 0.3
        let points = [base - axis * halfBase, mid - axis * halfBase * 0.35 + Vec2(-dir.y, dir.x) * bend * 0.1, tip,
                      mid + axis * halfBase * 0.35, base + axis * halfBase]
        let region = Box(points: points).outset(1.5)
        guard clearOfStuff(region), otherCopperDistance(tip, except: t) > 3, otherCopperDistance(mid, except: t) > 3 else { return nil }
        return (.spur(points: points, axis: axis, trace: w), region)
    }

    private mutating func short() -> (DefectAction, Box)? {
        guard let (t, p, axis, w) = tracePoint(minWidth: 1, margin: 3) else { return nil }
        let maxGap = 1.6 * s
        // Nearest neighbouring conductor across the trace.
        var best: (q: Vec2, gap: Float, radius: Float, pad: Int?, trace: Int?)? = nil
        for (j, other) in layout.traces.enumerated() where j != t {
            for k in 0..<(other.points.count - 1) {
                let a = other.points[k], b = other.points[k + 1]
                let ab = b - a
                let h = clamp01(dot2(p - a, ab) / max(dot2(ab, ab), 1e-6))
                let q = a + ab * h
                let gap = length2(q - p) - w / 2 - other.radius
                guard gap >= 1.5, gap <= maxGap, abs(dot2((q - p) / length2(q - p), axis)) < 0.4 else { continue }
                if best == nil || gap < best!.gap { best = (q, gap, other.radius, nil, j) }
            }
        }
        for (i, pad) in layout.pads.enumerated() {
            let b = pad.box
            let q = Vec2(min(max(p.x, b.x0), b.x1), min(max(p.y, b.y0), b.y1))
            let gap = length2(q - p) - w / 2
            guard gap >= 1.5, gap <= maxGap, abs(dot2((q - p) / length2(q - p), axis)) < 0.4 else { continue }
            if best == nil || gap < best!.gap { best = (q, gap, 0, i, nil) }
        }
        guard let target = best else { return nil }
        let u = (target.q - p) / length2(target.q - p)
        let a = p + u * (w / 2 - 0.6), b = target.q - u * (target.radius - 0.6)
        // Nothing else may lie between the two conductors.
        for (j, other) in layout.traces.enumerated() where j != t && j != target.trace {
            for k in 0..<(other.points.count - 1)
            where segmentSegmentDistance(a, b, other.points[k], other.points[k + 1]) - other.radius < 1 { return nil }
        }
        for (i, pad) in layout.pads.enumerated() where i != target.pad && segmentBoxDistance(a, b, pad.box) < 1 { return nil }
        let exposed = rng.chance(lowContrast ? 0.7 : 0.3)
        let radius = exposed ? rng.uniform(0.6, 1.0) : max(1.2, rng.uniform(0.35, 0.6) * min(w, target.radius > 0 ? target.radius * 2 : w))
        let perp = Vec2(-u.y, u.x)
        let mid = (a + b) / 2 + perp * rng.uniform(-0.35, 0.35) * target.gap
        let points = [a, mid, b]
        let region = Box(points: points).outset(radius + 1.5)
        var allow: Set<Int> = []
        if let pad = target.pad { allow.insert(pad) }
        guard clearOfStuff(region, allowPads: allow) else { return nil }
        return (.short(points: points, radius: radius, exposed: exposed), region)
    }

    /// Copper under this mask is hard to see (black boards): prefer defects in exposed metal.
    private var lowContrast: Bool {
        let d = layout.style.maskOverCopper - layout.style.mask
        return (d.x * d.x + d.y * d.y + d.z * d.z).squareRoot() < 0.16
    }

    private mutating func spuriousCopper() -> (DefectAction, Box)? {
        let r = max(3, rng.uniform(0.3, 1.5) * s)
        let safe = layout.safe.inset(r * 1.6)
        guard safe.width > 0, safe.height > 0 else { return nil }
        let c = Vec2(rng.uniform(safe.x0, safe.x1), rng.uniform(safe.y0, safe.y1))
        let shape: any Shape
        if rng.chance(0.35) {
            // A torn fragment: an irregular polygon.
            let n = rng.int(4...7)
            let base = rng.uniform(0, 2 * .pi)
            var pts: [Vec2] = []
            for i in 0..<n {
                let a = base + Float(i) / Float(n) * 2 * .pi + rng.uniform(-0.3, 0.3)
                let rr = r * rng.uniform(0.45, 1.1)
                pts.append(c + Vec2(cosf(a), sinf(a) * rng.uniform(0.5, 1)) * rr)
            }
            shape = PolygonShape(points: pts)
        } else {
            let stretch = rng.chance(0.5) ? Vec2(1, rng.uniform(0.45, 1)) : Vec2(rng.uniform(0.45, 1), 1)
            shape = BlobShape(center: c, radius: r, stretch: stretch, roughness: rng.uniform(0.15, 0.4), rng: &rng)
        }
        let region = shape.bounds.outset(1.5)
        guard clearOfStuff(region.outset(2)), copper.maximum(in: region.outset(3)) < 0.02 else { return nil }
        return (.spuriousCopper(shape: shape, exposed: rng.chance(lowContrast ? 0.8 : 0.4)), region)
    }

    private mutating func pinHole() -> (DefectAction, Box)? {
        let r = max(1.8, rng.uniform(0.15, 0.35) * s)
        switch rng.weighted([0.4, 0.4, 0.2]) {
        case 0:  // in a bare pad
            let pads = layout.pads.indices.filter { layout.pads[$0].bare && min(layout.pads[$0].box.width, layout.pads[$0].box.height) >= 2 * r + 3 }
            guard !pads.isEmpty else { return nil }
            let i = rng.pick(pads)
            let b = layout.pads[i].box
            let room = b.half - Vec2(r + 1.2, r + 1.2)
            var c = b.center + Vec2(rng.uniform(-room.x, room.x), rng.uniform(-room.y, room.y))
            if layout.pads[i].round {
                let d = c - b.center, limit = b.width / 2 - r - 1.2
                if length2(d) > limit { c = b.center + d / length2(d) * limit }
            }
            let region = Box(center: c, half: Vec2(r + 1.5, r + 1.5))
            guard fits(region), !layout.parts.contains(where: { $0.footprint.intersects(region) }) else { return nil }
            return (.pinHole(center: c, radius: r, onPad: true), region)
        case 1:  // in a trace
            guard let (t, p, axis, w) = tracePoint(minWidth: 2 * r + 3, margin: r + 2) else { return nil }
            let nrm = Vec2(-axis.y, axis.x)
            let c = p + nrm * rng.uniform(-1, 1) * max(0, w / 2 - r - 1)
            let region = Box(center: c, half: Vec2(r + 1.5, r + 1.5))
            guard clearOfStuff(region), otherCopperDistance(c, except: t) > r + 2 else { return nil }
            return (.pinHole(center: c, radius: r, onPad: false), region)
        default:  // in a copper pour
            let safe = layout.safe
            let c = Vec2(rng.uniform(safe.x0, safe.x1), rng.uniform(safe.y0, safe.y1))
            let region = Box(center: c, half: Vec2(r + 1.5, r + 1.5))
            guard clearOfStuff(region), copper.minimum(in: region.outset(1.5)) > 0.97 else { return nil }
            return (.pinHole(center: c, radius: r, onPad: false), region)
        }
    }

    private mutating func damagedPad() -> (DefectAction, Box)? {
        let pads = layout.pads.indices.filter { layout.pads[$0].bare && min(layout.pads[$0].box.width, layout.pads[$0].box.height) >= 4 }
        guard !pads.isEmpty else { return nil }
        let i = rng.pick(pads)
        let b = layout.pads[i].box
        let reach = length2(b.half) * 1.45 + 2
        let region = Box(center: b.center, half: Vec2(reach, reach))
        guard fits(region), !layout.parts.contains(where: { $0.footprint.intersects(region) }) else { return nil }
        return (.damagedPad(pad: i), region)
    }

    private mutating func joint(_ state: JointState) -> (DefectAction, Box)? {
        var candidates: [(Int, Int)] = []
        for (i, part) in layout.parts.enumerated() where part.present {
            for (j, joint) in part.joints.enumerated() where joint.state == .good {
                let pad = layout.pads[joint.pad].box
                if min(pad.width, pad.height) >= 3.5 { candidates.append((i, j)) }
            }
        }
        guard !candidates.isEmpty else { return nil }
        let (i, j) = rng.pick(candidates)
        let joint = layout.parts[i].joints[j]
        let region = layout.pads[joint.pad].box.union(joint.terminal).outset(max(1.5, 0.15 * s))
        guard fits(region) else { return nil }
        // Neighbouring parts must not cover it.
        for (k, other) in layout.parts.enumerated() where k != i && other.body.intersects(region) { return nil }
        return (.joint(part: i, joint: j), region)
    }

    private mutating func bridge() -> (DefectAction, Box)? {
        let parts = layout.parts.indices.filter { layout.parts[$0].present && layout.parts[$0].leads.count >= 2 }
        guard !parts.isEmpty else { return nil }
        let i = rng.pick(parts)
        let part = layout.parts[i]
        let count = rng.chance(0.7) ? 2 : 3
        guard part.leads.count >= count else { return nil }
        let first = rng.int(0...(part.leads.count - count))
        let members = Array(first..<(first + count))
        let leads = members.map { part.leads[$0] }
        guard leads.allSatisfy({ $0.outward == leads[0].outward }) else { return nil }
        let spacing = length2(leads[1].foot.center - leads[0].foot.center)
        guard spacing <= 1.4 * s, spacing > 0 else { return nil }
        let region = leads.map { layout.pads[part.joints[$0.joint].pad].box.union($0.foot) }.reduce(leads[0].foot) { $0.union($1) }.outset(1)
        guard fits(region) else { return nil }
        for (k, other) in layout.parts.enumerated() where k != i && other.body.intersects(region) { return nil }
        return (.bridge(part: i, leads: members), region)
    }
}
