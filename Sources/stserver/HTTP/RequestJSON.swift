import Foundation
import Hummingbird
import Probe

/// JSON request bodies: a syntax error names its line and column, a wrong document its field.
enum RequestJSON {
    /// Reads the body of `request` (at most `limit` bytes) and decodes it.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let body = try await request.body.collect(upTo: limit)
        return try decode(T.self, Array(buffer: body))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        if let p = JSONScanner.firstProblem(in: bytes) {
            throw APIError(.badRequest, "malformed JSON: \(p.message)", line: p.line, column: p.column)
        }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .custom(APIDate.decode)
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let e as DecodingError {
            throw APIError(.badRequest, "malformed JSON: \(JSONErrorText.describe(e))")
        }
    }
}
