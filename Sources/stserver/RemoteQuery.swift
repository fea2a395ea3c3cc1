import ArgumentParser
import NIOHTTP1
import Query

/// `stserver query --server URL`: the query sent to a running server's API, which holds the
/// data directory; its answer printed as it came, its errors turned into exit codes.
struct RemoteQuery {
    let server: String
    let tokenFile: String?

    func run(_ text: String, format: OutputFormat, at: String) async throws {
        let client = try APIClient(server: server, tokenFile: tokenFile)
        let answer = try await client.send(.POST, "/api/v1/query", query: [("format", format.rawValue), ("at", at)],
                                           body: Array(text.utf8), contentType: "text/plain")
        let out = StandardOutput()
        out.write(String(decoding: answer, as: UTF8.self))
        out.flush()
    }
}
