import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A real `stserver serve` on a loopback port the system picks, stopped by `stop()` (SIGTERM,
/// then SIGKILL if it lingers).
final class ServerProcess {
    let process = Process()
    let base: URL
    private let errors = Pipe()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: stserverPath)
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errors
        try process.run()
        // The first line says where it listens.
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw ServerError(message: "stserver serve ended before listening: \(err)")
            }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).split(separator: "\n")[0]
        guard text.hasPrefix("serving "), let url = URL(string: String(text.dropFirst("serving ".count))) else {
            throw ServerError(message: "unexpected first line: \(text)")
        }
        base = url
    }

    /// Stops the server and returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { stop() }

    struct ServerError: Error { var message: String }
}

/// One HTTP exchange's outcome.
struct HTTPAnswer {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> Any { try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

/// Refuses every redirect, so that a test sees the 303 itself.
final class RedirectRefusal: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// A session that follows no redirect and keeps no cookie.
let unredirected: URLSession = {
    let c = URLSessionConfiguration.ephemeral
    c.httpCookieStorage = nil
    c.httpShouldSetCookies = false
    c.httpCookieAcceptPolicy = .never
    return URLSession(configuration: c, delegate: RedirectRefusal(), delegateQueue: nil)
}()

/// A request through URLSession (libcurl underneath): a real HTTP client on loopback. Cookies
/// are the test's to send (`headers`); none is kept between requests.
func http(_ method: String, _ url: URL, body: Data? = nil, token: String? = nil, headers: [String: String] = [:],
          followRedirects: Bool = true) async throws -> HTTPAnswer {
    var r = URLRequest(url: url)
    r.httpMethod = method
    r.httpBody = body
    r.timeoutInterval = 30
    r.httpShouldHandleCookies = false
    if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
    let (data, response) = try await (followRedirects ? URLSession.shared : unredirected).data(for: r)
    guard let h = response as? HTTPURLResponse else { throw ServerProcess.ServerError(message: "not an HTTP response") }
    var headers = [String: String]()
    for (k, v) in h.allHeaderFields { headers["\(k)"] = "\(v)" }
    return HTTPAnswer(status: h.statusCode, headers: headers, body: data)
}

extension URL {
    /// This URL with `path` and query items added.
    func api(_ path: String, _ query: [(String, String)] = []) -> URL {
        var c = URLComponents(url: self, resolvingAgainstBaseURL: false) ?? URLComponents()
        c.path = path
        if !query.isEmpty { c.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        // URLComponents leaves '+' as is; the server reads it literally, so encode it.
        c.percentEncodedQuery = c.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return c.url ?? self
    }
}
