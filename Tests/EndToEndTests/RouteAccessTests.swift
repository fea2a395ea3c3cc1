import Foundation
import Hummingbird
import HummingbirdTesting
import PathTSDB
import Testing
import Yams

@testable import stserver

/// The router, called in process: every route is described in openapi.yaml, and every route but
/// the open ones refuses a caller without a token.
@Suite struct RouteAccessTests {
    /// The routes anyone may call, whatever the server's settings.
    static let open: Set<String> = ["GET /", "GET /api/v1/openapi.json", "GET /api/v1/openapi.yaml", "GET /api/v1/health", "GET /login", "POST /login"]
    /// The web forms that write: a session cookie and its CSRF token, never a bearer token.
    static let sessionForms: Set<String> = ["POST /logout", "POST /alerts/{id}/ack", "POST /alerts/{id}/silence"]

    static func server(in dir: URL, privateReads: Bool) throws -> (APIServer, PathStore) {
        let store = try PathStore(directory: dir.path)
        var settings = ServerSettings()
        settings.tokens = ["sekrit"]
        settings.privateReads = privateReads
        let server = APIServer(store: store, registry: try TargetRegistry(path: nil, monitor: nil), monitor: nil,
                               settings: settings, metrics: ServerMetrics())
        return (server, store)
    }

    /// "GET /api/v1/targets/{name}" for the router's "GET /api/v1/targets/**".
    static func routeKeys(_ router: Router<BasicRequestContext>) -> Set<String> {
        Set(router.routes.map { "\($0.method) \(documented($0.path.description))" })
    }

    /// A router path as the document writes it: `**` is `{name}`, `:id` is `{id}`.
    static func documented(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part == "**" ? "{name}" : part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }.joined(separator: "/")
    }

    @Test func everyRouteIsDescribedAndEveryDescriptionIsARoute() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (server, store) = try Self.server(in: dir, privateReads: false)
        defer { try? store.close() }
        let doc = try #require(try Yams.load(yaml: String(decoding: OpenAPIDocument.yaml, as: UTF8.self)) as? [String: Any])
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, item) in paths {
            for method in ["get", "post", "put", "delete"] where item[method] != nil { documented.insert("\(method.uppercased()) \(path)") }
        }
        #expect(Self.routeKeys(server.buildRouter()) == documented)
        // The JSON form is the same document.
        let json = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json)) as? [String: Any])
        #expect((json["paths"] as? [String: Any])?.count == paths.count)
    }

    @Test func everyRouteButTheOpenOnesNeedsATokenWhenReadsArePrivate() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (server, store) = try Self.server(in: dir, privateReads: true)
        defer { try? store.close() }
        let router = server.buildRouter()
        let routes = router.routes.map { route in
            (method: route.method, key: "\(route.method) \(Self.documented(route.path.description))",
             path: route.path.description.replacingOccurrences(of: "**", with: "some/target").replacingOccurrences(of: ":id", with: "1"))
        }
        #expect(routes.count >= 15)
        let app = Application(router: router)
        try await app.test(.router) { client in
            for route in routes {
                let key = route.key
                let anonymous = try await client.execute(uri: route.path, method: route.method)
                if Self.open.contains(key) {
                    // The sign-in form answers a missing token with itself (401, HTML), not a challenge.
                    #expect(anonymous.status != .unauthorized || key == "POST /login" && anonymous.headers[.contentType]?.hasPrefix("text/html") == true,
                            "\(key) is open")
                } else if Self.sessionForms.contains(key) {
                    #expect(anonymous.status == .unauthorized, "\(key) without a session answered \(anonymous.status)")
                    let bearer = try await client.execute(uri: route.path, method: route.method, headers: [.authorization: "Bearer sekrit"])
                    #expect(bearer.status == .unauthorized, "\(key) takes no bearer token, only a session: answered \(bearer.status)")
                } else {
                    #expect(anonymous.status == .unauthorized, "\(key) without a token answered \(anonymous.status)")
                    let wrong = try await client.execute(uri: route.path, method: route.method, headers: [.authorization: "Bearer nope"])
                    #expect(wrong.status == .unauthorized, "\(key) with a wrong token answered \(wrong.status)")
                    let right = try await client.execute(uri: route.path, method: route.method, headers: [.authorization: "Bearer sekrit"])
                    #expect(right.status != .unauthorized && right.status != .forbidden, "\(key) with the token answered \(right.status)")
                }
            }
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithTheMethodsItTakes() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (server, store) = try Self.server(in: dir, privateReads: false)
        defer { try? store.close() }
        try await Application(router: server.buildRouter()).test(.router) { client in
            let answer = try await client.execute(uri: "/api/v1/targets/a/b", method: .get)
            #expect(answer.status == .methodNotAllowed)
            #expect(answer.headers[.allow] == "DELETE, PUT")
            let unknown = try await client.execute(uri: "/api/v1/nothing", method: .get)
            #expect(unknown.status == .notFound)
        }
    }
}

func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-routes-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
