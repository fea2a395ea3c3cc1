import Alerting
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PathTSDB
import Probe
import Query

/// An API failure: the status and a message, answered as `{"error": …}` with the query
/// position when there is one.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String
    var line: Int?
    var column: Int?
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, line: Int? = nil, column: Int? = nil) {
        self.status = status
        self.message = message
        self.line = line
        self.column = column
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var body = "{\"error\": " + JSONRenderer.quote(message)
        if let line { body += ", \"line\": \(line), \"column\": \(column ?? 1)" }
        body += "}\n"
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// The API's answer to an error from the store, the query engine or the targets file.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as QueryError:
            let status: HTTPResponse.Status = switch e.code {
            case .notFound: .notFound
            case .tooManyRows: .unprocessableContent
            case .timeout: .serviceUnavailable
            default: .badRequest
            }
            return APIError(status, e.message, line: e.line, column: e.column)
        case let e as ProbeError:
            if e.code == .notFound { return APIError(.notFound, e.description) }
            if e.code == .conflict { return APIError(.conflict, e.description) }
            return APIError(e.code == .io ? .internalServerError : .badRequest, e.description)
        case let e as StorageError:
            if e.code == .invalidArgument { return APIError(.badRequest, e.description) }
            if e.code == .diskFull { return APIError(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), e.description) }
            return APIError(.internalServerError, e.description)
        case let e as AlertingError:
            if e.code == .notFound { return APIError(.notFound, e.description) }
            if e.code == .conflict { return APIError(.conflict, e.description) }
            return APIError(e.code == .io ? .internalServerError : .badRequest, e.description, line: e.line, column: e.column)
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "the request body is larger than the server accepts")
        case let e as DecodingError:
            return APIError(.badRequest, "malformed JSON: \(JSONErrorText.describe(e))")
        default:
            return APIError(.internalServerError, "\(error)")
        }
    }
}

enum JSONErrorText {
    static func describe(_ e: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            let s = p.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return s.isEmpty ? "the document" : String(s.drop { $0 == "." })
        }
        switch e {
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])): missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c.codingPath)): \(c.debugDescription)"
        case .dataCorrupted(let c):
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "\(path(c.codingPath)): \(underlying ?? c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}

/// A JSON response from an `Encodable` value.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    Response(status: status, headers: [.contentType: "application/json"],
             body: ResponseBody(byteBuffer: ByteBuffer(bytes: try jsonBytes(value))))
}

/// An `Encodable` value as the API writes JSON: keys sorted, dates as RFC 3339, a newline after.
func jsonBytes(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.dateEncodingStrategy = .custom(APIDate.encode)
    var data = try encoder.encode(value)
    data.append(0x0A)
    return Array(data)
}

/// Runs blocking work (a store read, a query) on a Dispatch thread, off the server's event loops.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}
