// A small stroke font for silkscreen designators and part markings: each glyph is a few
// polylines on a 4 x 6 grid (y down), drawn as round-capped strokes.

import Foundation

enum StrokeFont {
    typealias Glyph = [[Vec2]]

    private static func g(_ strokes: [[(Float, Float)]]) -> Glyph { strokes.map { $0.map { Vec2($0.0, $0.1) } } }

    static let glyphs: [Character: Glyph] = {
        let o: [(Float, Float)] = [(1, 0), (3, 0), (4, 1), (4, 5), (3, 6), (1, 6), (0, 5), (0, 1), (1, 0)]
        let p: [(Float, Float)] = [(0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)]
        return [
            "0": g([o, [(3.6, 1.2), (0.4, 4.8)]]),
            "1": g([[(1, 1), (2, 0), (2, 6)], [(1, 6), (3, 6)]]),
            "2": g([[(0, 1), (1, 0), (3, 0), (4, 1), (4, 2), (0, 6), (4, 6)]]),
            "3": g([[(0, 0), (4, 0), (2, 2.5), (3, 2.5), (4, 3.5), (4, 5), (3, 6), (1, 6), (0, 5)]]),
            "4": g([[(3, 6), (3, 0), (0, 4), (4, 4)]]),
            "5": g([[(4, 0), (0, 0), (0, 2.5), (3, 2.5), (4, 3.5), (4, 5), (3, 6), (0, 6)]]),
            "6": g([[(3, 0), (1, 0), (0, 1), (0, 5), (1, 6), (3, 6), (4, 5), (4, 3.5), (3, 2.5), (0, 2.5)]]),
            "7": g([[(0, 0), (4, 0), (1.5, 6)]]),
            "8": g([[(1, 0), (3, 0), (4, 1), (4, 2), (3, 3), (1, 3), (0, 4), (0, 5), (1, 6), (3, 6), (4, 5), (4, 4), (3, 3)],
                    [(1, 3), (0, 2), (0, 1), (1, 0)]]),
            "9": g([[(4, 3.5), (1, 3.5), (0, 2.5), (0, 1), (1, 0), (3, 0), (4, 1), (4, 5), (3, 6), (1, 6)]]),
            "A": g([[(0, 6), (0, 2), (2, 0), (4, 2), (4, 6)], [(0, 3.5), (4, 3.5)]]),
            "B": g([[(0, 0), (0, 6), (3, 6), (4, 5), (4, 4), (3, 3), (0, 3)], [(0, 0), (3, 0), (4, 1), (4, 2), (3, 3)]]),
            "C": g([[(4, 1), (3, 0), (1, 0), (0, 1), (0, 5), (1, 6), (3, 6), (4, 5)]]),
            "D": g([[(0, 0), (0, 6), (2.5, 6), (4, 4.5), (4, 1.5), (2.5, 0), (0, 0)]]),
            "E": g([[(4, 0), (0, 0), (0, 6), (4, 6)], [(0, 3), (3, 3)]]),
            "F": g([[(4, 0), (0, 0), (0, 6)], [(0, 3), (3, 3)]]),
            "G": g([[(4, 1), (3, 0), (1, 0), (0, 1), (0, 5), (1, 6), (3, 6), (4, 5), (4, 3), (2, 3)]]),
            "H": g([[(0, 0), (0, 6)], [(4, 0), (4, 6)], [(0, 3), (4, 3)]]),
            "I": g([[(1, 0), (3, 0)], [(2, 0), (2, 6)], [(1, 6), (3, 6)]]),
            "J": g([[(4, 0), (4, 5), (3, 6), (1, 6), (0, 5)]]),
            "K": g([[(0, 0), (0, 6)], [(4, 0), (0, 3.5)], [(1.2, 2.8), (4, 6)]]),
            "L": g([[(0, 0), (0, 6), (4, 6)]]),
            "M": g([[(0, 6), (0, 0), (2, 3), (4, 0), (4, 6)]]),
            "N": g([[(0, 6), (0, 0), (4, 6), (4, 0)]]),
            "O": g([o]),
            "P": g([p]),
            "Q": g([o, [(2.5, 4.5), (4, 6)]]),
            "R": g([p, [(2, 3), (4, 6)]]),
            "S": g([[(4, 1), (3, 0), (1, 0), (0, 1), (0, 2), (1, 3), (3, 3), (4, 4), (4, 5), (3, 6), (1, 6), (0, 5)]]),
            "T": g([[(0, 0), (4, 0)], [(2, 0), (2, 6)]]),
            "U": g([[(0, 0), (0, 5), (1, 6), (3, 6), (4, 5), (4, 0)]]),
            "V": g([[(0, 0), (2, 6), (4, 0)]]),
            "W": g([[(0, 0), (1, 6), (2, 3), (3, 6), (4, 0)]]),
            "X": g([[(0, 0), (4, 6)], [(4, 0), (0, 6)]]),
            "Y": g([[(0, 0), (2, 3), (4, 0)], [(2, 3), (2, 6)]]),
            "Z": g([[(0, 0), (4, 0), (0, 6), (4, 6)]]),
            "+": g([[(2, 1), (2, 5)], [(0, 3), (4, 3)]]),
            "-": g([[(0.5, 3), (3.5, 3)]]),
            ".": g([[(2, 5.8)]]),
            "/": g([[(0, 6), (4, 0)]]),
        ]
    }()

    /// Advance per character in glyph units (glyph 4 wide + spacing).
    static let advance: Float = 5.6

    /// Width of a text in pixels for a given cap height.
    static func width(of text: String, height: Float) -> Float {
        guard !text.isEmpty else { return 0 }
        return (Float(text.count) * advance - (advance - 4)) * height / 6
    }

    /// Strokes of a text laid out from `origin` (top-left), `height` pixels tall; `vertical`
    /// rotates it 90 degrees (reading bottom to top, as designators beside vertical parts).
    static func strokes(_ text: String, origin: Vec2, height: Float, vertical: Bool = false) -> [[Vec2]] {
        let k = height / 6
        var out: [[Vec2]] = []
        for (i, ch) in text.enumerated() {
            guard let glyph = glyphs[ch] else { continue }
            let dx = Float(i) * advance
            for stroke in glyph {
                out.append(stroke.map { q in
                    let u = Vec2(q.x + dx, q.y) * k
                    return vertical ? origin + Vec2(u.y, -u.x) : origin + u
                })
            }
        }
        return out
    }
}
