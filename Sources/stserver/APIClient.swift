import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The command line's client of a running server's API (`--server URL`): one request at a
/// time, the token from `--token-file`, the server's JSON errors turned into messages and exit
/// codes. Async, on the process's shared HTTP client.
struct APIClient {
    let server: String
    let tokenFile: String?

    init(server: String, tokenFile: String?) throws {
        guard let c = URLComponents(string: server), c.scheme == "http" || c.scheme == "https", c.host != nil else {
            throw ValidationError("--server takes an http:// address, such as http://127.0.0.1:8470")
        }
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.tokenFile = tokenFile
    }

    /// Sends one request; returns the body of a 2xx answer (printing the server's warning, if it
    /// gave one), and for any other status prints the server's message and throws the matching
    /// exit code.
    func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
              contentType: String = "application/json") async throws -> [UInt8] {
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.0, value: $0.1) }
        // A form's encoding: a '+' in a value must reach the server as a plus sign.
        let q = components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
        var request = HTTPClientRequest(url: server + path + q)
        request.method = method
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: contentType)
        }
        if let tokenFile, let token = try readTokens(tokenFile).first {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let response: HTTPClientResponse
        let bytes: [UInt8]
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
            bytes = Array(buffer: try await response.body.collect(upTo: 1 << 30))
        } catch {
            StandardError.write("stserver: cannot reach \(server): \(error)\n")
            throw ExitCode(ExitStatus.ioError)
        }
        guard (200..<300).contains(response.status.code) else {
            let data = Data(bytes)
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]).flatMap { obj -> String? in
                guard let e = obj["error"] as? String else { return nil }
                if let line = obj["line"] as? Int { return "\(line):\(obj["column"] as? Int ?? 1): \(e)" }
                return e
            } ?? String(decoding: bytes, as: UTF8.self)
            StandardError.write("stserver: \(server) answered \(response.status.code): \(message)\n")
            switch response.status.code {
            case 404: throw ExitCode(ExitStatus.noInput)
            case 401, 403: throw ExitCode(ExitStatus.noPermission)
            case 503: throw ExitCode(ExitStatus.locked)
            default: throw ExitCode(ExitStatus.dataError)
            }
        }
        // The server's warning (data left out of the answer: quarantined files) goes on as the
        // local command says it.
        for warning in response.headers["X-SmokeTrace-Warning"] { StandardError.write("stserver: warning: \(warning)\n") }
        return bytes
    }
}
