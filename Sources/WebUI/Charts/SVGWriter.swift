/// Writes an SVG document element by element, escaping every text and attribute it is given.
/// Colours come from the style sheet by class, with a dark variant under
/// `prefers-color-scheme: dark`, so one document reads in either mode.
struct SVGWriter {
    private var out: String

    init(width: Int, height: Int, title: String, description: String) {
        // A page holds many charts: each one's title and description ids are its own (from its
        // title, unique on a page), so that each chart is labelled by its own.
        let id = SVGWriter.id(title)
        out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-labelledby=\"t\(id) d\(id)\">"
            + "<title id=\"t\(id)\">\(SVGWriter.escape(title))</title><desc id=\"d\(id)\">\(SVGWriter.escape(description))</desc>"
            + SVGWriter.style
    }

    /// A short id for a chart from its title: FNV-1a, in hexadecimal.
    static func id(_ title: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in title.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, cssClass: String, note: String? = nil) {
        element("line", "class=\"\(cssClass)\" x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\"", note: note)
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, cssClass: String, note: String? = nil) {
        element("rect", "class=\"\(cssClass)\" x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\"", note: note)
    }

    /// A filled rectangle of a colour of its own (a path's, on the timeline).
    mutating func band(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, note: String) {
        element("rect", "class=\"band\" fill=\"\(SVGWriter.escape(fill))\" x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\"", note: note)
    }

    mutating func path(_ d: String, cssClass: String, note: String? = nil) {
        guard !d.isEmpty else { return }
        element("path", "class=\"\(cssClass)\" d=\"\(d)\"", note: note)
    }

    /// A transparent area that links to `href` (a zoom target on a time axis).
    mutating func link(_ href: String, _ x: Double, _ y: Double, _ w: Double, _ h: Double, note: String) {
        out += "<a href=\"\(SVGWriter.escape(href))\"><rect class=\"zoom\" x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\">"
            + "<title>\(SVGWriter.escape(note))</title></rect></a>"
    }

    /// A line of a colour of its own (a series of a query's answer).
    mutating func coloured(_ d: String, stroke: String, note: String) {
        guard !d.isEmpty else { return }
        element("path", "class=\"series\" fill=\"none\" stroke-width=\"1.5\" stroke=\"\(SVGWriter.escape(stroke))\" d=\"\(d)\"", note: note)
    }

    mutating func text(_ x: Double, _ y: Double, _ s: String, cssClass: String, anchor: String = "start") {
        out += "<text class=\"\(cssClass)\" x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\">\(SVGWriter.escape(s))</text>"
    }

    /// A vertical marker across the plot, a link when `link` is given (a path change to its diff).
    mutating func mark(_ x: Double, top: Double, bottom: Double, note: String, link: String?) {
        if let link { out += "<a href=\"\(SVGWriter.escape(link))\">" }
        out += "<line class=\"change\" x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(bottom))\"><title>\(SVGWriter.escape(note))</title></line>"
        out += "<path class=\"change-head\" d=\"M\(n(x - 4)) \(n(top - 6))h8l-4 6z\"><title>\(SVGWriter.escape(note))</title></path>"
        if link != nil { out += "</a>" }
    }

    consuming func finish() -> String { out + "</svg>" }

    /// An element with `attributes` (already escaped), and `note` as its tooltip.
    private mutating func element(_ name: String, _ attributes: String, note: String?) {
        out += "<\(name) \(attributes)"
        if let note { out += "><title>\(SVGWriter.escape(note))</title></\(name)>" } else { out += "/>" }
    }

    private func n(_ v: Double) -> String { PathData.number(v) }

    /// `s` safe inside text and double-quoted attributes.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static let style = """
        <style>
        .chart{font:11px system-ui,sans-serif;color:#222;background:#fff}
        .chart .chart-title{font-weight:600;fill:currentColor}
        .chart .tick{fill:#555}
        .chart .grid{stroke:#e4e4e4;stroke-width:1}
        .chart .frame{fill:none;stroke:#999}
        .chart .smoke{fill:#000;fill-opacity:.08}
        .chart .median{stroke-width:2;fill:none}
        .chart .lost{stroke:none}
        .chart .missed{fill:#999}
        .chart .change{stroke:#d55e00;stroke-width:1.5;stroke-dasharray:4 2}
        .chart .change-head{fill:#d55e00}
        .chart .band-label{fill:#fff;font-weight:600;paint-order:stroke;stroke:#0008;stroke-width:2px}
        .chart .zoom{fill:currentColor;fill-opacity:0;cursor:zoom-in}
        .chart .zoom:hover{fill-opacity:.08}
        \(LossScale.styleRules)
        @media (prefers-color-scheme: dark){
        .chart{color:#ddd;background:#1b1b1b}
        .chart .tick{fill:#aaa}
        .chart .grid{stroke:#333}
        .chart .frame{stroke:#666}
        .chart .smoke{fill:#fff;fill-opacity:.1}
        .chart .missed{fill:#777}
        }
        </style>
        """
}
