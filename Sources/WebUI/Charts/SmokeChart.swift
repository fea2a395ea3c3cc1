/// One time bucket of a hop's (or the destination's) replies, as a smoke graph draws it.
package struct SmokeBucket: Sendable, Equatable {
    package var startMicros: Int64
    package var endMicros: Int64
    /// Probes sent and lost in the bucket.
    package var sent: Int
    package var lost: Int
    /// The median RTT (ms); nil when nothing answered.
    package var medianMillis: Double?
    /// RTT quantiles (ms), ascending, at evenly spaced ranks from the lowest to the highest:
    /// the smoke. Empty when nothing answered.
    package var quantilesMillis: [Double]

    package init(startMicros: Int64, endMicros: Int64, sent: Int, lost: Int, medianMillis: Double?, quantilesMillis: [Double]) {
        self.startMicros = startMicros
        self.endMicros = endMicros
        self.sent = sent
        self.lost = lost
        self.medianMillis = medianMillis
        self.quantilesMillis = quantilesMillis
    }

    /// Lost probes as a fraction of those sent; nil when none was sent.
    package var lossFraction: Double? { sent > 0 ? Double(lost) / Double(sent) : nil }
}

/// Something that happened at an instant, marked on the time axis.
package struct ChartMark: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// A path change; the link goes to its diff.
        case pathChange(link: String?)
        /// A scheduled run that did not happen.
        case missed
    }
    package var timeMicros: Int64
    package var kind: Kind
    /// What a reader hovering (or a screen reader) is told.
    package var note: String

    package init(timeMicros: Int64, kind: Kind, note: String) {
        self.timeMicros = timeMicros
        self.kind = kind
        self.note = note
    }
}

/// A SmokePing-style graph as SVG: per bucket, the spread of the RTTs as grey smoke, darker
/// where more of them lie, and the median as a line whose colour says the bucket's loss;
/// path changes and missed runs marked on the time axis. Its size is bounded by its pixels:
/// buckets narrower than a pixel column are merged before drawing.
package struct SmokeChart: Sendable {
    package var title: String
    package var fromMicros: Int64
    package var toMicros: Int64
    package var buckets: [SmokeBucket]
    package var marks: [ChartMark] = []
    package var width = 720
    package var height = 220

    package init(title: String, fromMicros: Int64, toMicros: Int64, buckets: [SmokeBucket]) {
        self.title = title
        self.fromMicros = fromMicros
        self.toMicros = toMicros
        self.buckets = buckets
    }

    static let margin = (left: 52, right: 12, top: 22, bottom: 34)

    var plotWidth: Int { max(width - SmokeChart.margin.left - SmokeChart.margin.right, 1) }
    var plotHeight: Int { max(height - SmokeChart.margin.top - SmokeChart.margin.bottom, 1) }

    /// The buckets drawn: those in range, merged so that there is at most one per pixel column.
    package var drawnBuckets: [SmokeBucket] {
        let inRange = buckets.filter { $0.endMicros > fromMicros && $0.startMicros < toMicros }
        guard inRange.count > plotWidth else { return inRange }
        let group = (inRange.count + plotWidth - 1) / plotWidth
        return stride(from: 0, to: inRange.count, by: group).map { start in
            SmokeChart.merge(inRange[start..<min(start + group, inRange.count)])
        }
    }

    /// Several buckets as one: counts added, each quantile rank the mean of the buckets' (an
    /// approximation, as any merge of summaries is), the median the mean of their medians.
    static func merge(_ group: ArraySlice<SmokeBucket>) -> SmokeBucket {
        let answered = group.filter { !$0.quantilesMillis.isEmpty }
        let ranks = answered.map(\.quantilesMillis.count).min() ?? 0
        let quantiles = (0..<ranks).map { r in
            answered.reduce(0.0) { $0 + $1.quantilesMillis[r * ($1.quantilesMillis.count - 1) / max(ranks - 1, 1)] } / Double(answered.count)
        }
        let medians = group.compactMap(\.medianMillis)
        return SmokeBucket(startMicros: group.first?.startMicros ?? 0, endMicros: group.last?.endMicros ?? 0,
                           sent: group.reduce(0) { $0 + $1.sent }, lost: group.reduce(0) { $0 + $1.lost },
                           medianMillis: medians.isEmpty ? nil : medians.reduce(0, +) / Double(medians.count),
                           quantilesMillis: quantiles)
    }

    /// The SVG, with a title and a text description for readers who cannot see it.
    package func svg() -> String {
        let drawn = drawnBuckets
        let m = SmokeChart.margin
        // The axis covers the medians and most of the smoke: a single spike must not flatten
        // the rest (SmokePing's "max of the medians", with room above).
        let medians = drawn.compactMap(\.medianMillis).sorted()
        let highSmoke = drawn.compactMap { $0.quantilesMillis.isEmpty ? nil : $0.quantilesMillis[$0.quantilesMillis.count * 9 / 10] }.sorted()
        let p95 = { (v: [Double]) in v.isEmpty ? 0 : v[min(v.count - 1, v.count * 95 / 100)] }
        let (ticks, top) = ChartAxis.valueTicks(upTo: max(p95(medians) * 1.5, p95(highSmoke), 0.1))
        let span = Double(max(toMicros - fromMicros, 1))
        func x(_ t: Int64) -> Double { Double(m.left) + Double(t - fromMicros) / span * Double(plotWidth) }
        func y(_ v: Double) -> Double { Double(m.top) + Double(plotHeight) * (1 - min(v, top) / top) }

        var out = SVGWriter(width: width, height: height, title: title, description: description(drawn))
        out.text(Double(m.left), 15, title, cssClass: "chart-title")
        for t in ticks {
            out.line(Double(m.left), y(t), Double(width - m.right), y(t), cssClass: "grid")
            out.text(Double(m.left - 6), y(t) + 4, ChartNumber.format(t) + (t == ticks.last ? " ms" : ""), cssClass: "tick", anchor: "end")
        }
        let step = ChartAxis.timeStep(span: toMicros - fromMicros, maximum: max(plotWidth / 90, 2))
        for t in ChartAxis.timeTicks(from: fromMicros, to: toMicros, step: step) {
            out.line(x(t), Double(m.top), x(t), Double(height - m.bottom), cssClass: "grid")
            out.text(x(t), Double(height - m.bottom + 14), ChartAxis.label(t, step.label), cssClass: "tick", anchor: "middle")
        }
        // Smoke: per pair of mirrored ranks (lowest and highest, then the next pair in), one
        // path of a rectangle per bucket, drawn from the outside in, so the middle, covered by
        // every band, is darkest. One path per band and one per loss colour keeps the document
        // small: its size follows the pixel columns, not the data.
        let bands = drawn.map(\.quantilesMillis.count).max() ?? 0
        for i in 0..<(bands / 2) {
            var d = PathData()
            for b in drawn where b.quantilesMillis.count == bands {
                let x0 = x(max(b.startMicros, fromMicros)), x1 = max(x(min(b.endMicros, toMicros)), x0 + 1)
                let q = b.quantilesMillis
                d.rectangle(x0, y(q[bands - 1 - i]), x1 - x0, max(y(q[i]) - y(q[bands - 1 - i]), 0.5))
            }
            out.path(d.text, cssClass: "smoke")
        }
        var medianPaths = [Int: PathData](), allLost = PathData()
        for b in drawn {
            let x0 = x(max(b.startMicros, fromMicros)), x1 = max(x(min(b.endMicros, toMicros)), x0 + 1)
            if let median = b.medianMillis {
                medianPaths[LossScale.band(b.lossFraction), default: PathData()].segment(x0, y(median), x1 - x0)
            } else if b.sent > 0 {
                // Everything lost: a bar along the bottom in the colour of total loss.
                allLost.rectangle(x0, Double(height - m.bottom - 3), x1 - x0, 3)
            }
        }
        for (band, d) in medianPaths.sorted(by: { $0.key < $1.key }) {
            out.path(d.text, cssClass: "median loss-\(band)", note: LossScale.bands[band].name)
        }
        out.path(allLost.text, cssClass: "lost loss-\(LossScale.band(1))", note: "every probe lost")
        for mark in marks where mark.timeMicros >= fromMicros && mark.timeMicros < toMicros {
            switch mark.kind {
            case .pathChange(let link):
                out.mark(x(mark.timeMicros), top: Double(m.top), bottom: Double(height - m.bottom), note: mark.note, link: link)
            case .missed:
                out.rect(x(mark.timeMicros) - 1, Double(height - m.bottom + 1), 2, 4, cssClass: "missed", note: mark.note)
            }
        }
        out.rect(Double(m.left), Double(m.top), Double(plotWidth), Double(plotHeight), cssClass: "frame")
        return out.finish()
    }

    /// The graph in words: range, medians and loss, path changes.
    func description(_ drawn: [SmokeBucket]) -> String {
        let medians = drawn.compactMap(\.medianMillis).sorted()
        let sent = drawn.reduce(0) { $0 + $1.sent }, lost = drawn.reduce(0) { $0 + $1.lost }
        var s = "From \(RFCTime.short(fromMicros)) to \(RFCTime.short(toMicros)): "
        if let low = medians.first, let high = medians.last {
            s += "median RTT between \(ChartNumber.format(low)) and \(ChartNumber.format(high)) ms"
        } else {
            s += "no replies"
        }
        s += sent > 0 ? ", \(ChartNumber.format(Double(lost) * 100 / Double(sent)))% of \(sent) probes lost" : ", no probes"
        let changes = marks.filter { if case .pathChange = $0.kind { true } else { false } }.count
        if changes > 0 { s += ", \(changes) path change\(changes == 1 ? "" : "s")" }
        return s + "."
    }
}
