import Foundation
import Hummingbird

/// A request's query string read as an HTML form would send it: `+` is a space (write `%2B` for
/// a plus sign), then percent-escapes are decoded. `q=stats+p95+last+1h` is the query
/// `stats p95 last 1h`.
struct FormParameters {
    private var values: [String: [String]] = [:]

    init(_ request: Request) {
        guard let raw = request.uri.query else { return }
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            values[key, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The first value of `key`.
    subscript(_ key: String) -> String? { values[key]?.first }

    /// Every value of `key`, in order.
    subscript(all key: String) -> [String] { values[key] ?? [] }
}
