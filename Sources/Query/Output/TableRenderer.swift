/// An aligned text table: numbers right-aligned, text left-aligned, a rule under the header.
public enum TableRenderer {
    /// The whole table as aligned text.
    public static func render(_ t: ResultTable) -> String {
        // Control characters would break the alignment: show them escaped.
        let cells = t.rows.map { $0.map { escape($0.text) } }
        var widths = t.columns.map(\.count)
        for row in cells {
            for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }
        func pad(_ s: String, _ w: Int, right: Bool) -> String {
            let fill = String(repeating: " ", count: max(0, w - s.count))
            return right ? fill + s : s + fill
        }
        var out = t.columns.enumerated().map { pad($0.element, widths[$0.offset], right: false) }.joined(separator: "  ")
        out = trimTrailing(out) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for (r, row) in cells.enumerated() {
            let line = row.enumerated().map { i, c -> String in
                let numeric: Bool
                switch t.rows[r][i] {
                case .integer, .number: numeric = true
                default: numeric = false
                }
                return pad(c, widths[i], right: numeric)
            }.joined(separator: "  ")
            out += trimTrailing(line) + "\n"
        }
        return out
    }

    static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += "\\x" + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    private static func trimTrailing(_ s: String) -> String {
        var s = Substring(s)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// RFC 4180 CSV: a header row, CRLF line ends, fields quoted when they hold a comma, quote or
/// line break.
public enum CSVRenderer {
    /// The whole table as CSV.
    public static func render(_ t: ResultTable) -> String { ResultWriter.render(t, as: .csv) }

    /// `s` as one CSV field: as it is, or quoted with its quotes doubled.
    public static func field(_ s: String) -> String {
        // Bytes, not Characters: the four that matter are ASCII, and grapheme breaking is slow.
        guard s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else { return s }
        return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
    }
}

/// JSON: an array of objects keyed by column name; times as RFC 3339 strings.
public enum JSONRenderer {
    /// The whole table as JSON.
    public static func render(_ t: ResultTable) -> String { ResultWriter.render(t, as: .json) }

    static func value(_ v: ResultValue) -> String {
        switch v {
        case .null: "null"
        case .integer(let i): String(i)
        case .number(let d): d.isFinite ? ResultValue.format(d) : "null"
        case .text(let s): quote(s)
        case .time: quote(v.text)
        }
    }

    /// `s` as a JSON string literal, quotes included.
    public static func quote(_ s: String) -> String {
        // Most text needs no escape: copied whole, not scalar by scalar.
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else { return "\"" + s + "\"" }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
