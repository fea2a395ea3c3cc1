import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The server on a real full file system (a small tmpfs): runs it cannot store are refused with
/// 507 naming the full disk, health says "degraded" until a write succeeds again, and what was
/// acknowledged before is there after.
@Suite(.serialized) struct DiskFullServerTests {
    static func health(_ server: ServerProcess) async throws -> String? {
        let answer = try await http("GET", server.base.api("/api/v1/health"))
        return (try answer.json() as? [String: Any])?["status"] as? String
    }

    @Test(.needsRoot) func aFullDiskIs507AndDegradedHealthUntilItHasRoomAgain() async throws {
        let mount = TemporaryDirectory("disk-full-serve")
        let tokens = TemporaryDirectory("disk-full-tokens")
        defer {
            _ = try? command("/bin/umount", [mount.path])
            mount.remove()
            tokens.remove()
        }
        try #require(try command("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.path]).status == 0, "mounting a tmpfs needs root")
        try "\(ServerTests.token)\n".write(toFile: tokens.path + "/tokens", atomically: true, encoding: .utf8)
        let server = try ServerProcess(["--data", mount.path + "/data", "--token-file", tokens.path + "/tokens"])
        defer { server.stop() }
        #expect(try await Self.health(server) == "ok")

        // Batches of 300 runs of a new target each until the disk refuses one.
        var refused: HTTPAnswer?
        var stored = 0
        for batch in 0..<400 {
            let body = ServerTests.json("full/t\(batch)", ServerTests.runs("full/t\(batch)", count: 300))
            let answer = try await http("POST", server.base.api("/api/v1/runs"), body: body, token: ServerTests.token)
            if answer.status == 200 { stored += 300; continue }
            refused = answer
            break
        }
        let answer = try #require(refused, "1 MiB did not fill up")
        #expect(answer.status == 507, "\(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
        #expect(String(decoding: answer.body, as: UTF8.self).contains("disk"), "the answer names the full disk")
        #expect(stored > 0)
        #expect(try await Self.health(server) == "degraded")

        // Room again: the next batch is stored and health is back to "ok".
        try #require(try command("/bin/mount", ["-o", "remount,size=64m", mount.path]).status == 0)
        let again = try await http("POST", server.base.api("/api/v1/runs"), body: ServerTests.json("full/after", ServerTests.runs("full/after", count: 5)),
                                   token: ServerTests.token)
        #expect(again.status == 200)
        #expect(try await Self.health(server) == "ok")
        // Every probe acknowledged is there (12 a run), and none of the refused batch.
        let q = "stats count of all from 2026-11-19T00:00:00Z to 2026-11-22T00:00:00Z"
        let rows = try #require(try await http("GET", server.base.api("/api/v1/query", [("q", q)])).json() as? [[String: Any]])
        let probes = rows.compactMap { $0["count"] as? Int }.reduce(0, +)
        #expect(probes == (stored + 5) * 12, "\(rows)")
    }
}
