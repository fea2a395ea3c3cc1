import Foundation
import Hummingbird

/// A request's query string read as an HTML form would send it: `+` is a space (write `%2B` for
/// a plus sign), then percent-escapes are decoded. `q=stats+p95+last+1h` is the query
/// `stats p95 last 1h`. Read once per request, and handed to whatever needs a parameter.
struct FormParameters: Sendable {
    private var values: [String: [String]] = [:]

    /// - Throws: 400 for a malformed percent-escape (or one that is not UTF-8), naming the
    ///   parameter, rather than passing the text on half-decoded.
    init(_ request: Request) throws {
        try self.init(encoded: Substring(request.uri.query ?? ""), what: "query string")
    }

    /// A form's fields as a browser POSTs them (`application/x-www-form-urlencoded`).
    init(encoded raw: Substring, what: String = "form") throws {
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                guard let decoded = spaced.removingPercentEncoding else {
                    throw APIError(.badRequest, "\(what): \(parts[0].prefix(64))= holds a malformed percent-escape (%XX, UTF-8)")
                }
                return decoded
            }
            let key = try decode(parts[0])
            values[key, default: []].append(parts.count > 1 ? try decode(parts[1]) : "")
        }
    }

    /// The first value of `key`.
    subscript(_ key: String) -> String? { values[key]?.first }

    /// Removes `key`, so that what reads the parameters next does not see it.
    mutating func remove(_ key: String) { values[key] = nil }

    /// Every value of `key`, in order.
    subscript(all key: String) -> [String] { values[key] ?? [] }
}
