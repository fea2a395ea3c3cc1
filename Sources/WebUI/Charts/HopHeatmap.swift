/// A hop × time heatmap: a row per TTL (TTL 1 on top), a column per time bucket, each cell
/// coloured by the hop's median RTT in the bucket or by its loss. Where a hop's delay or loss
/// moved, and when, shows at a glance over every hop at once. Cells of one colour side by side
/// are drawn as one rectangle, so the size follows the changes in the data, bounded by pixels.
package struct HopHeatmap: Sendable {
    package enum Measure: Sendable { case latency, loss }

    package var title: String
    package var measure: Measure
    package var fromMicros: Int64
    package var toMicros: Int64
    /// Each hop's buckets by TTL, in time order (`SmokeSeriesQuery`).
    package var series: [Int: [SmokeBucket]]
    package var marks: [ChartMark] = []
    package var width = 720

    package init(title: String, measure: Measure, fromMicros: Int64, toMicros: Int64, series: [Int: [SmokeBucket]]) {
        self.title = title
        self.measure = measure
        self.fromMicros = fromMicros
        self.toMicros = toMicros
        self.series = series
    }

    /// Viridis in eight steps, dark (low) to light (high): ordered in lightness, so it reads in
    /// grey and for colour-blind readers.
    static let latencyColours = ["#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725"]
    static let rowHeight = 12
    static let top = 24

    /// The median RTTs' scale: the lowest and highest median of any cell.
    var latencyRange: ClosedRange<Double>? {
        let medians = series.values.flatMap { $0.compactMap(\.medianMillis) }
        guard let lo = medians.min(), let hi = medians.max() else { return nil }
        return lo...hi
    }

    /// A cell's colour class: an index into `latencyColours` or `LossScale.bands`; nil when the
    /// hop sent nothing or (for latency) nothing answered.
    func colourClass(_ b: SmokeBucket, latency range: ClosedRange<Double>?) -> Int? {
        switch measure {
        case .loss:
            // Nothing answered and nothing counted lost: a silent hop, which has no loss of its own.
            guard b.sent > 0, b.medianMillis != nil || b.lost > 0 else { return nil }
            return LossScale.band(b.lossFraction)
        case .latency:
            guard let m = b.medianMillis, let range else { return nil }
            let span = range.upperBound - range.lowerBound
            guard span > 0 else { return 0 }
            return min(HopHeatmap.latencyColours.count - 1, Int((m - range.lowerBound) / span * Double(HopHeatmap.latencyColours.count)))
        }
    }

    package func svg() -> String {
        let ttls = series.keys.sorted()
        let left = Double(SmokeChart.margin.left), plot = Double(max(width - SmokeChart.margin.left - SmokeChart.margin.right, 1))
        let rows = Double(max(ttls.count, 1) * HopHeatmap.rowHeight)
        let top = Double(HopHeatmap.top)
        let height = Int(top + rows) + 58
        let span = Double(max(toMicros - fromMicros, 1))
        func x(_ t: Int64) -> Double { left + Double(min(max(t, fromMicros), toMicros) - fromMicros) / span * plot }
        let range = latencyRange
        let what = measure == .latency ? "median RTT" : "loss"
        var description = "\(what.prefix(1).uppercased() + what.dropFirst()) per hop over time, \(ttls.count) hop\(ttls.count == 1 ? "" : "s") from TTL 1 at the top"
        if measure == .latency, let range {
            description += ", from \(ChartNumber.format(range.lowerBound)) ms (darkest) to \(ChartNumber.format(range.upperBound)) ms (lightest)"
        } else if measure == .loss {
            description += ", coloured by loss band as the legend of the smoke graphs"
        }
        description += "; blank where a hop sent nothing" + (measure == .latency ? " or nothing answered." : " or is silent (answers no probe, so has no loss of its own).")
        var out = SVGWriter(width: width, height: height, title: title, description: description)
        out.text(left, 13, title, cssClass: "chart-title")
        for (row, ttl) in ttls.enumerated() {
            let y = top + Double(row * HopHeatmap.rowHeight)
            out.text(left - 6, y + Double(HopHeatmap.rowHeight) - 2, "\(ttl)", cssClass: "tick", anchor: "end")
            // Runs of cells of one colour, each one rectangle.
            var run: (cls: Int, from: SmokeBucket, to: SmokeBucket, sent: Int, lost: Int)?
            func flush() {
                guard let r = run else { return }
                let x0 = x(r.from.startMicros), x1 = max(x(r.to.endMicros), x0 + 1)
                let note = "TTL \(ttl), \(RFCTime.short(r.from.startMicros)) to \(RFCTime.short(r.to.endMicros)): "
                    + (measure == .latency ? "median \(colourRange(r.cls, range))" : "\(r.lost) of \(r.sent) probes lost")
                out.band(x0, y, x1 - x0, Double(HopHeatmap.rowHeight - 1), fill: colour(r.cls), note: note)
                run = nil
            }
            for b in series[ttl] ?? [] where b.endMicros > fromMicros && b.startMicros < toMicros {
                guard let cls = colourClass(b, latency: range) else { flush(); continue }
                if var r = run, r.cls == cls, r.to.endMicros >= b.startMicros {
                    r.to = b
                    r.sent += b.sent
                    r.lost += b.lost
                    run = r
                } else {
                    flush()
                    run = (cls, b, b, b.sent, b.lost)
                }
            }
            flush()
        }
        out.rect(left, top, plot, rows, cssClass: "frame")
        for mark in marks where mark.timeMicros >= fromMicros && mark.timeMicros < toMicros {
            if case .pathChange(let link) = mark.kind { out.mark(x(mark.timeMicros), top: top, bottom: top + rows, note: mark.note, link: link) }
        }
        let step = ChartAxis.timeStep(span: toMicros - fromMicros, maximum: max(Int(plot) / 90, 2))
        for t in ChartAxis.timeTicks(from: fromMicros, to: toMicros, step: step) {
            out.text(x(t), top + rows + 14, ChartAxis.label(t, step.label), cssClass: "tick", anchor: "middle")
        }
        // The legend: each colour and what it stands for.
        let legendY = top + rows + 26
        let classes = measure == .latency ? (range == nil ? 0 : HopHeatmap.latencyColours.count) : LossScale.bands.count
        let swatch = min(plot / Double(max(classes, 1)), 110)
        for cls in 0..<classes {
            let x0 = left + Double(cls) * swatch
            out.band(x0, legendY, swatch - 2, 10, fill: colour(cls), note: legendText(cls, range))
            // Latency: the class bounds under the swatches' edges; loss: each band's name.
            if measure == .loss { out.text(x0, legendY + 24, legendText(cls, range), cssClass: "tick") }
        }
        if measure == .latency, let range {
            let w = (range.upperBound - range.lowerBound) / Double(classes)
            for edge in 0...classes {
                let label = ChartNumber.format(range.lowerBound + Double(edge) * w) + (edge == classes ? " ms" : "")
                out.text(left + Double(edge) * swatch - (edge == classes ? 2 : 0), legendY + 24, label, cssClass: "tick",
                         anchor: edge == 0 ? "start" : edge == classes ? "end" : "middle")
            }
        }
        return out.finish()
    }

    private func colour(_ cls: Int) -> String {
        measure == .latency ? HopHeatmap.latencyColours[cls] : (cls == LossScale.bands.count - 1 ? "currentColor" : LossScale.bands[cls].color)
    }

    /// The medians a latency class holds, "12.5–15 ms".
    private func colourRange(_ cls: Int, _ range: ClosedRange<Double>?) -> String {
        guard let range else { return "–" }
        let w = (range.upperBound - range.lowerBound) / Double(HopHeatmap.latencyColours.count)
        return "\(ChartNumber.format(range.lowerBound + Double(cls) * w))–\(ChartNumber.format(range.lowerBound + Double(cls + 1) * w)) ms"
    }

    private func legendText(_ cls: Int, _ range: ClosedRange<Double>?) -> String {
        measure == .latency ? colourRange(cls, range) : LossScale.bands[cls].name
    }
}
