#if canImport(Glibc)
import Glibc
#endif

enum StandardError {
    static func write(_ s: String) {
        var bytes = Array(s.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    static var isTerminal: Bool { isatty(2) != 0 }
}

/// A one-line progress display on standard error, redrawn at most every half second, and only
/// when standard error is a terminal.
struct ProgressLine {
    private let enabled = StandardError.isTerminal
    private var last = ContinuousClock.now
    private let started = ContinuousClock.now

    mutating func update(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard now - last >= .milliseconds(500) else { return }
        last = now
        StandardError.write("\r\u{1B}[K" + text())
    }

    func finish() {
        if enabled { StandardError.write("\r\u{1B}[K") }
    }

    var elapsedSeconds: Double {
        let d = ContinuousClock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

enum Format {
    /// 52850846 → "52,850,846".
    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func fixed(_ v: Double, _ places: Int) -> String {
        var p = 1.0
        for _ in 0..<places { p *= 10 }
        let r = (v * p).rounded() / p
        var s = String(r)
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < places { s += String(repeating: "0", count: places - decimals) }
        } else if places > 0 {
            s += "." + String(repeating: "0", count: places)
        }
        return s
    }
}
