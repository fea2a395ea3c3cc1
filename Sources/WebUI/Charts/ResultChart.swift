package import Query

/// A query's answer as a line graph, when it is a time series: a `time` column, the columns of
/// whole numbers or text as the series' keys (`ttl`, `target`), each column of fractional
/// numbers a value. One line per key and value column, at most `maxSeries`; each line's points
/// merged to one per pixel column, so the size follows the pixels.
package struct ResultChart: Sendable {
    package var title: String
    package var series: [(name: String, points: [(Int64, Double)])]
    package var fromMicros: Int64
    package var toMicros: Int64
    package var width = 720
    let height = 260
    static let maxSeries = 12

    /// nil when the answer is not a time series of numbers.
    package init?(title: String, columns: [String], rows: [[ResultValue]]) {
        guard let timeIndex = columns.firstIndex(of: "time"), !rows.isEmpty else { return nil }
        var keyIndices = [Int](), valueIndices = [Int]()
        for i in columns.indices where i != timeIndex {
            let values = rows.lazy.map { $0[i] }
            if values.contains(where: { if case .number = $0 { true } else { false } }) {
                valueIndices.append(i)
            } else if values.allSatisfy({ switch $0 { case .integer, .text, .null: true; default: false } }) {
                keyIndices.append(i)
            }
        }
        guard !valueIndices.isEmpty else { return nil }
        var byName = [String: [(Int64, Double)]](), order = [String]()
        for row in rows {
            guard case .time(let t) = row[timeIndex] else { continue }
            let key = keyIndices.map { "\(columns[$0]) \(row[$0].text)" }.joined(separator: ", ")
            for v in valueIndices {
                let value: Double
                switch row[v] {
                case .number(let d): value = d
                case .integer(let n): value = Double(n)
                default: continue
                }
                guard value.isFinite else { continue }
                let name = key.isEmpty ? columns[v] : "\(columns[v]) (\(key))"
                if byName[name] == nil {
                    guard order.count < ResultChart.maxSeries else { continue }
                    order.append(name)
                }
                byName[name, default: []].append((t, value))
            }
        }
        let times = byName.values.flatMap { $0.map(\.0) }
        guard let from = times.min(), let to = times.max() else { return nil }
        self.title = title
        self.series = order.map { ($0, (byName[$0] ?? []).sorted { $0.0 < $1.0 }) }
        fromMicros = from
        toMicros = max(to, from + 1)
    }

    package func svg() -> String {
        let margin = SmokeChart.margin
        let left = Double(margin.left), top = Double(margin.top)
        let plot = Double(max(width - margin.left - margin.right, 1)), plotHeight = Double(height - margin.top - margin.bottom - 18 * ((series.count + 2) / 3))
        let (ticks, axisTop) = ChartAxis.valueTicks(upTo: series.flatMap { $0.points.map(\.1) }.max() ?? 1)
        func x(_ t: Int64) -> Double { left + Double(t - fromMicros) / Double(toMicros - fromMicros) * plot }
        // From 0 up: a value below 0 (none of the language's figures is) is drawn at 0.
        func y(_ v: Double) -> Double { top + plotHeight - max(v, 0) / max(axisTop, 1e-9) * plotHeight }
        let description = "\(series.count) series over time: " + series.map(\.name).joined(separator: "; ") + "."
        var out = SVGWriter(width: width, height: height, title: title, description: description)
        out.text(left, 13, title, cssClass: "chart-title")
        for v in ticks {
            out.line(left, y(v), left + plot, y(v), cssClass: "grid")
            out.text(left - 4, y(v) + 4, ChartNumber.format(v), cssClass: "tick", anchor: "end")
        }
        for (i, s) in series.enumerated() {
            // One point per pixel column: the last of the column.
            var d = "", lastColumn = -1
            for (t, v) in s.points {
                let column = Int(x(t))
                if column == lastColumn, !d.isEmpty { continue }
                d += (d.isEmpty ? "M" : "L") + PathData.number(x(t)) + " " + PathData.number(y(v))
                lastColumn = column
            }
            out.coloured(d, stroke: PathTimeline.palette[i % PathTimeline.palette.count], note: s.name)
            let lx = left + Double(i % 3) * plot / 3, ly = top + plotHeight + 30 + Double(i / 3) * 16
            out.band(lx, ly - 8, 14, 4, fill: PathTimeline.palette[i % PathTimeline.palette.count], note: s.name)
            out.text(lx + 18, ly, s.name, cssClass: "tick")
        }
        let step = ChartAxis.timeStep(span: toMicros - fromMicros, maximum: max(Int(plot) / 90, 2))
        for t in ChartAxis.timeTicks(from: fromMicros, to: toMicros, step: step) {
            out.text(x(t), top + plotHeight + 14, ChartAxis.label(t, step.label), cssClass: "tick", anchor: "middle")
        }
        out.rect(left, top, plot, plotHeight, cssClass: "frame")
        return out.finish()
    }
}
