/// Which path a target used when, as coloured bands on a time axis: a band per stretch between
/// two path changes, its colour the path's (the same path, the same colour, so a route that
/// flaps back shows it), a marker at each change linking to its diff.
package struct PathTimeline: Sendable {
    /// A stretch of time on one path.
    package struct Stretch: Sendable, Equatable {
        package var fromMicros: Int64
        package var toMicros: Int64
        package var path: UInt32
        package init(fromMicros: Int64, toMicros: Int64, path: UInt32) {
            self.fromMicros = fromMicros
            self.toMicros = toMicros
            self.path = path
        }
    }

    package var title: String
    package var fromMicros: Int64
    package var toMicros: Int64
    package var stretches: [Stretch]
    package var marks: [ChartMark]
    package var width = 720
    let height = 64
    /// The link of the interval between two time ticks (zooming into it); none: no links.
    package var zoomLink: (@Sendable (Int64, Int64) -> String)?

    package init(title: String, fromMicros: Int64, toMicros: Int64, stretches: [Stretch], marks: [ChartMark]) {
        self.title = title
        self.fromMicros = fromMicros
        self.toMicros = toMicros
        self.stretches = stretches
        self.marks = marks
    }

    /// The stretches that changes (time, old path, new path; in time order) cut the range into.
    /// Before the first change the target was on its old path; with no change, on `current`.
    package static func stretches(from: Int64, to: Int64, changes: [(time: Int64, old: UInt32, new: UInt32)], current: UInt32?) -> [Stretch] {
        guard let first = changes.first else { return current.map { [Stretch(fromMicros: from, toMicros: to, path: $0)] } ?? [] }
        var out = [Stretch(fromMicros: from, toMicros: max(from, first.time), path: first.old)]
        for (i, c) in changes.enumerated() {
            let end = i + 1 < changes.count ? changes[i + 1].time : to
            out.append(Stretch(fromMicros: max(from, c.time), toMicros: min(to, end), path: c.new))
        }
        return out.filter { $0.toMicros > $0.fromMicros }
    }

    /// Colours for paths, in the order paths first appear (Okabe–Ito, then again lighter).
    static let palette = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999"]

    package func svg() -> String {
        let left = Double(SmokeChart.margin.left), plot = Double(max(width - SmokeChart.margin.left - SmokeChart.margin.right, 1))
        let span = Double(max(toMicros - fromMicros, 1))
        func x(_ t: Int64) -> Double { left + Double(min(max(t, fromMicros), toMicros) - fromMicros) / span * plot }
        var colours = [UInt32: String]()
        for s in stretches where colours[s.path] == nil { colours[s.path] = PathTimeline.palette[colours.count % PathTimeline.palette.count] }
        let paths = Set(stretches.map(\.path)).count
        let description = stretches.isEmpty ? "No runs in this range."
            : "\(stretches.count) stretch\(stretches.count == 1 ? "" : "es") on \(paths) path\(paths == 1 ? "" : "s"): "
              + stretches.map { "path \($0.path) from \(RFCTime.short($0.fromMicros)) to \(RFCTime.short($0.toMicros))" }.joined(separator: "; ") + "."
        var out = SVGWriter(width: width, height: height, title: title, description: description)
        out.text(left, 13, title, cssClass: "chart-title")
        for s in stretches {
            let x0 = x(s.fromMicros), x1 = max(x(s.toMicros), x0 + 1)
            out.band(x0, 20, x1 - x0, 22, fill: colours[s.path] ?? "#999", note: "path \(s.path): \(RFCTime.short(s.fromMicros)) to \(RFCTime.short(s.toMicros))")
            if x1 - x0 > 40 { out.text(x0 + 4, 35, "path \(s.path)", cssClass: "band-label") }
        }
        for mark in marks where mark.timeMicros >= fromMicros && mark.timeMicros < toMicros {
            if case .pathChange(let link) = mark.kind { out.mark(x(mark.timeMicros), top: 20, bottom: 42, note: mark.note, link: link) }
        }
        let step = ChartAxis.timeStep(span: toMicros - fromMicros, maximum: max(Int(plot) / 90, 2))
        let ticks = ChartAxis.timeTicks(from: fromMicros, to: toMicros, step: step)
        for t in ticks {
            out.text(x(t), 56, ChartAxis.label(t, step.label), cssClass: "tick", anchor: "middle")
        }
        out.rect(left, 20, plot, 22, cssClass: "frame")
        if let zoomLink {
            let edges = [fromMicros] + ticks.filter { $0 > fromMicros && $0 < toMicros } + [toMicros]
            for (a, b) in zip(edges, edges.dropFirst()) where b > a {
                out.link(zoomLink(a, b), x(a), 44, x(b) - x(a), 16, note: "zoom to \(RFCTime.short(a)) – \(RFCTime.short(b))")
            }
        }
        return out.finish()
    }
}
