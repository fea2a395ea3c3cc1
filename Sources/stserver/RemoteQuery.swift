import ArgumentParser
import Foundation
import Query
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `stserver query --server URL`: the query sent to a running server's API, which holds the
/// data directory; its answer printed as it came, its errors turned into exit codes.
struct RemoteQuery {
    let server: String
    let tokenFile: String?

    func run(_ text: String, format: OutputFormat, at: String) throws {
        guard var components = URLComponents(string: server), components.scheme == "http" || components.scheme == "https" else {
            throw ValidationError("--server takes an http:// address, such as http://127.0.0.1:8470")
        }
        components.path = "/api/v1/query"
        components.queryItems = [URLQueryItem(name: "format", value: format.rawValue), URLQueryItem(name: "at", value: at)]
        guard let url = components.url else { throw ValidationError("--server: not a usable address") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(text.utf8)
        request.setValue("text/plain", forHTTPHeaderField: "Content-Type")
        if let tokenFile, let token = try readTokens(tokenFile).first {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        let (data, status) = try Self.send(request)
        guard status == 200 else {
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]).flatMap { obj -> String? in
                guard let e = obj["error"] as? String else { return nil }
                if let line = obj["line"] as? Int { return "\(line):\(obj["column"] as? Int ?? 1): \(e)" }
                return e
            } ?? String(decoding: data, as: UTF8.self)
            StandardError.write("stserver: \(server) answered \(status): \(message)\n")
            switch status {
            case 404: throw ExitCode(ExitStatus.noInput)
            case 401, 403: throw ExitCode(ExitStatus.noPermission)
            case 503: throw ExitCode(ExitStatus.locked)
            default: throw ExitCode(ExitStatus.dataError)
            }
        }
        let out = StandardOutput()
        out.write(String(decoding: data, as: UTF8.self))
        out.flush()
    }

    /// One request, waited for; a server that cannot be reached is an I/O error.
    private static func send(_ request: URLRequest) throws -> (Data, Int) {
        final class Box: @unchecked Sendable {
            // Written by the session's callback before it signals, read after.
            var result: Result<(Data, Int), any Error> = .failure(URLError(.unknown))
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(error)
            } else {
                box.result = .success((data ?? Data(), (response as? HTTPURLResponse)?.statusCode ?? 0))
            }
            done.signal()
        }.resume()
        done.wait()
        do {
            return try box.result.get()
        } catch {
            StandardError.write("stserver: cannot reach \(request.url?.absoluteString ?? "the server"): \(error.localizedDescription)\n")
            throw ExitCode(ExitStatus.ioError)
        }
    }
}
