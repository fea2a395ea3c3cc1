/// The `d` attribute of an SVG path, built of many small shapes: one element where there would
/// be hundreds.
struct PathData {
    private(set) var text = ""

    /// A closed rectangle.
    mutating func rectangle(_ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        text += "M\(PathData.number(x)) \(PathData.number(y))h\(PathData.number(w))v\(PathData.number(h))h\(PathData.number(-w))z"
    }

    /// A horizontal segment (stroked, not filled).
    mutating func segment(_ x: Double, _ y: Double, _ w: Double) {
        text += "M\(PathData.number(x)) \(PathData.number(y))h\(PathData.number(w))"
    }

    /// Coordinates to a tenth of a pixel: enough for any screen, and short.
    static func number(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
