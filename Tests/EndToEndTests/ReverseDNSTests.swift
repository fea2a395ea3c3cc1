import Foundation
import Glibc
import PathTSDB
import Probe
import Testing

/// Names of hop addresses from a real resolver on loopback (dnsmasq, started by the test): the
/// lookup itself, and the target page showing them once looked up, a hostile name as text.
@Suite(.serialized) struct ReverseDNSTests {
    /// dnsmasq answering PTR queries for the lab's hops on a free loopback port; stopped by
    /// `stop()`.
    final class Resolver {
        /// Spawned directly, not through Foundation's Process, whose child watcher then blocks in
        /// wait4 on it while the test waits for the server's exit.
        let pid: pid_t
        let port: UInt16

        init(records: [(String, String)]) throws {
            // A port the system had free a moment ago.
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = withUnsafeMutablePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            port = UInt16(bigEndian: sin.sin_port)
            close(fd)
            let arguments = ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-daemon", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1",
                             "--bind-interfaces", "--port=\(port)", "--pid-file=", "--user=root", "--log-facility=/dev/null"]
                + records.map { "--ptr-record=\($0.0),\($0.1)" }
            var argv = arguments.map { strdup($0) } + [nil]
            defer { for p in argv { free(p) } }
            var child: pid_t = 0
            let spawned = posix_spawn(&child, "/usr/sbin/dnsmasq", nil, nil, &argv, environ)
            guard spawned == 0 else { throw ServerProcess.ServerError(message: "dnsmasq did not start: \(String(cString: strerror(spawned)))") }
            pid = child
            // Ready once it answers (it binds as it starts): asked again for at most 5 s.
            let cache = ReverseNameCache(server: server, timeout: .milliseconds(200))
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, (try? cache.lookup(IPAddress(v4: 0x0A4D_0004))) == nil { usleep(50_000) }
        }

        var server: ReverseNameCache.Server { ReverseNameCache.Server(address: IPAddress(v4: 0x7F00_0001), port: port) }

        func stop() {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    static let records = [("4.0.77.10.in-addr.arpa", "hop4.lab.example"), ("3.0.77.10.in-addr.arpa", "x<script>y.example")]

    @Test func aLookupAsksTheResolverAndReadsItsAnswer() throws {
        let resolver = try Resolver(records: Self.records)
        defer { resolver.stop() }
        let cache = ReverseNameCache(server: resolver.server)
        #expect(try cache.lookup(IPAddress(v4: 0x0A4D_0004)) == .name("hop4.lab.example", ttl: 0))
        #expect(try cache.lookup(IPAddress(v4: 0x0A4D_0003)) == .name("x<script>y.example", ttl: 0))
        // An address it holds no name for: dnsmasq, without upstream, refuses.
        #expect(throws: ProbeError.self) { try cache.lookup(IPAddress(v4: 0x0A4D_0009)) }
    }

    @Test func theTargetPageShowsTheNamesOnceKnownAndAHostileOneAsText() async throws {
        let resolver = try Resolver(records: Self.records)
        defer { resolver.stop() }
        let server = try ServerTests.Running(["--reverse-dns", "127.0.0.1:\(resolver.port)"])
        defer { server.finish() }
        _ = try await http("POST", server.base.api("/api/v1/runs"), body: ServerTests.json("lab/a", ServerTests.runs("lab/a", count: 3)),
                           token: ServerTests.token)
        let url = server.base.api("/targets/lab/a", [("range", "30d")])
        // The first page starts the lookups and does not wait for them; a later one has them.
        let deadline = Date().addingTimeInterval(15)
        var names = [String: String]()
        while Date() < deadline && names["10.77.0.4"] == nil {
            let data = try await http("GET", url, headers: ["Accept": "application/json"]).json() as? [String: Any]
            for hop in data?["hops"] as? [[String: Any]] ?? [] {
                if let a = hop["address"] as? String, let n = hop["name"] as? String { names[a] = n }
            }
            if names["10.77.0.4"] == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(names["10.77.0.4"] == "hop4.lab.example" && names["10.77.0.3"] == "x<script>y.example", "\(names)")
        let page = try await http("GET", url).text
        #expect(page.contains("<td>10.77.0.4</td><td class=\"name\">hop4.lab.example</td>"))
        #expect(page.contains("<td class=\"name\">x&lt;script&gt;y.example</td>") && !page.lowercased().contains("<script"))
    }
}
