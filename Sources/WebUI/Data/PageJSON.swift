import Foundation

/// A page's data as JSON: the same values the page shows, as numbers and RFC 3339 times rather
/// than formatted text, with snake_case keys as the query API's answers have.
package enum PageJSON {
    package static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
