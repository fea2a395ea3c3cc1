import Foundation
import Hummingbird
import NIOCore
import PathTSDB
import Query
import WebUI

/// The web pages (`Sources/WebUI`), mounted beside the API with the same read access: the list
/// of targets at `/targets`, a target's page at `/targets/NAME` (`?range=3h|1d|7d|30d|1y`, or
/// `from` and `to`), two of its paths side by side at `/diff`.
struct WebController: Sendable {
    let store: PathStore
    let renderer: PageRenderer

    func addRoutes<Context: RequestContext>(to routes: APIRoutes<Context>) {
        routes.rootReads.get("targets") { request, _ in
            let params = try FormParameters(request)
            let page = TargetsPage(filter: params["filter"], onlyChanged: params["changed"] == "1", sort: params["sort"])
            let snap = store.snapshot()
            let now = WallClock.nowMicros()
            return cacheable(try await offload { [renderer] in renderer.render("targets", try page.model(snapshot: snap, nowMicros: now)) },
                             request: request)
        }
        routes.rootReads.get("diff") { request, _ in try await diff(request: request) }
        routes.rootReads.get("targets/**") { request, context in
            let encoded = context.parameters.getCatchAll().joined(separator: "/")
            guard let name = encoded.removingPercentEncoding, !name.isEmpty else {
                return html(.badRequest, renderer.error("Bad request", "\(encoded) is not a target name"))
            }
            return try await page(target: name, request: request)
        }
    }

    /// `/diff?target=NAME&old=ID&new=ID` (range as for a target's page; 30 days by default).
    private func diff(request: Request) async throws -> Response {
        let params = try FormParameters(request)
        let snap = store.snapshot()
        let now = WallClock.nowMicros()
        guard let target = params["target"], snap.catalog.targetID(named: target) != nil else {
            return html(.notFound, renderer.error("Not found", "The store holds no runs of \(params["target"] ?? "(no target= given)")."))
        }
        guard let old = params["old"].flatMap(UInt32.init), let new = params["new"].flatMap(UInt32.init) else {
            return html(.badRequest, renderer.error("Bad request", "old= and new= must be path ids (numbers), as the changes list them"))
        }
        let range: PageRange
        do {
            range = try PageRange(range: params["range"] ?? (params["from"] == nil ? "30d" : nil), from: params["from"], to: params["to"], nowMicros: now)
        } catch {
            return html(.badRequest, renderer.error("Bad request", error.description))
        }
        let page = DiffPage(target: target, old: PathID(rawValue: old), new: PathID(rawValue: new), range: range)
        let (status, body) = try await offload { [renderer] () throws -> (HTTPResponse.Status, String) in
            do {
                return (.ok, renderer.render("diff", try page.model(snapshot: snap, nowMicros: now)))
            } catch let error as WebUIError {
                return (.notFound, renderer.error("Not found", error.description))
            }
        }
        return status == .ok ? cacheable(body, request: request) : html(status, body)
    }

    private func page(target: String, request: Request) async throws -> Response {
        let params = try FormParameters(request)
        let snap = store.snapshot()
        let now = WallClock.nowMicros()
        let range: PageRange
        do {
            range = try PageRange(range: params["range"], from: params["from"], to: params["to"], nowMicros: now)
        } catch {
            return html(.badRequest, renderer.error("Bad request", error.description))
        }
        guard snap.catalog.targetID(named: target) != nil else {
            return html(.notFound, renderer.error("Not found", "The store holds no runs of \(target)."))
        }
        let page = TargetPage(target: target, range: range)
        let body = try await offload { [renderer] in renderer.render("target", try page.model(snapshot: snap, nowMicros: now)) }
        return cacheable(body, request: request)
    }

    private func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A page that can be cached: its ETag is its bytes' checksum and length (weak: the same
    /// page, not promised byte for byte across versions), and a request that already holds it
    /// (`If-None-Match`) gets 304 and no body.
    private func cacheable(_ text: String, request: Request) -> Response {
        let bytes = Array(text.utf8)
        let tag = "W/\"\(String(CRC32C.checksum(bytes), radix: 16))-\(bytes.count)\""
        if let held = request.headers[.ifNoneMatch], held.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag }) {
            return Response(status: .notModified, headers: [.eTag: tag])
        }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .eTag: tag, .cacheControl: "no-cache"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
