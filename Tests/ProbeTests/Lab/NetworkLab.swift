import Foundation
import Synchronization
import Testing

/// A lab of network namespaces for tests with real packets, removed by `tearDown()`:
///
///     src 10.77.1.1 — 10.77.1.2 r1 10.77.2.1 — 10.77.2.2 r2  10.77.3.1 — 10.77.3.2 dst
///                               r1 10.77.4.1 — 10.77.4.2 r2b 10.77.5.1 — 10.77.5.2 dst
///
/// r1 reaches dst through r2 unless `route(via:)` or `ecmp()` says otherwise. Forwarding is on,
/// ICMP rate limiting off, and veth transmit checksum offload off (the kernel would leave a wrong
/// UDP checksum in the headers ICMP errors quote).
final class NetworkLab {
    enum Node: String, CaseIterable {
        case src = "s", r1 = "1", r2 = "2", r2b = "b", dst = "d"
        /// Made only by `nestedECMP()`.
        case r3 = "3", r3b = "c", r3c = "e"

        static let base: [Node] = [.src, .r1, .r2, .r2b, .dst]
    }

    static let r1 = "10.77.1.2", r2 = "10.77.2.2", r2b = "10.77.4.2", dst = "10.77.3.2"
    /// The same hosts over IPv6 (fd77:N::1 and ::2 on link N).
    static let r1v6 = "fd77:1::2", r2v6 = "fd77:2::2", dstv6 = "fd77:3::2"
    private static let counter = Mutex(0)

    let id: String
    private var created: [String] = []
    /// Background programs started in the lab, killed by `tearDown()`.
    private var helpers: [pid_t] = []

    init() throws {
        let n = NetworkLab.counter.withLock { $0 += 1; return $0 }
        id = "t\(ProcessInfo.processInfo.processIdentifier % 1000)\(n)"
        do { try build() } catch {
            tearDown()
            throw error
        }
    }

    func ns(_ node: Node) -> String { "\(id)-\(node)" }

    /// The prefix that runs a command inside the source namespace.
    var fromSource: [String] { ["ip", "netns", "exec", ns(.src)] }

    private func build() throws {
        for node in Node.base { try add(node) }
        try link(.src, .r1, 1)
        try link(.r1, .r2, 2)
        try link(.r2, .dst, 3)
        try link(.r1, .r2b, 4)
        try link(.r2b, .dst, 5)
        try run("ip", "-n", ns(.src), "route", "add", "default", "via", "10.77.1.2")
        try run("ip", "-n", ns(.r1), "route", "add", "10.77.3.0/24", "via", "10.77.2.2")
        try run("ip", "-n", ns(.r2), "route", "add", "10.77.1.0/24", "via", "10.77.2.1")
        try run("ip", "-n", ns(.r2b), "route", "add", "10.77.1.0/24", "via", "10.77.4.1")
        try run("ip", "-n", ns(.r2b), "route", "add", "10.77.3.2/32", "via", "10.77.5.2")
        try run("ip", "-n", ns(.dst), "route", "add", "default", "via", "10.77.3.1")
        try run("ip", "-n", ns(.src), "-6", "route", "add", "default", "via", "fd77:1::2")
        try run("ip", "-n", ns(.r1), "-6", "route", "add", "fd77:3::/64", "via", "fd77:2::2")
        try run("ip", "-n", ns(.r2), "-6", "route", "add", "fd77:1::/64", "via", "fd77:2::1")
        try run("ip", "-n", ns(.dst), "-6", "route", "add", "default", "via", "fd77:3::1")
    }

    private func add(_ node: Node) throws {
        try run("ip", "netns", "add", ns(node))
        created.append(ns(node))
        try run("ip", "-n", ns(node), "link", "set", "lo", "up")
        // Neither per-destination ICMP rate limiting nor the global cap on ICMP messages a
        // second (tests run many traces at once).
        try run("ip", "netns", "exec", ns(node), "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv4.ip_forward=1",
                "net.ipv4.icmp_msgs_per_sec=100000", "net.ipv4.icmp_msgs_burst=100000",
                "net.ipv6.icmp.ratelimit=0", "net.ipv6.conf.all.forwarding=1",
                // Link-local addresses in duplicate-address detection hold up neighbour
                // discovery for a second or two; the lab's addresses are unique anyway.
                "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
    }

    private func link(_ a: Node, _ b: Node, _ subnet: Int) throws {
        let ia = "\(id)\(a.rawValue)\(b.rawValue)", ib = "\(id)\(b.rawValue)\(a.rawValue)"
        let mac = { (host: Int) in "02:77:00:00:0\(subnet):0\(host)" }
        try run("ip", "link", "add", ia, "netns", ns(a), "address", mac(1), "type", "veth",
                "peer", "name", ib, "netns", ns(b), "address", mac(2))
        for (node, interface, host) in [(a, ia, 1), (b, ib, 2)] {
            try run("ip", "-n", ns(node), "addr", "add", "10.77.\(subnet).\(host)/24", "dev", interface)
            try run("ip", "-n", ns(node), "addr", "add", "fd77:\(subnet)::\(host)/64", "dev", interface, "nodad")
            try run("ip", "-n", ns(node), "link", "set", interface, "up")
            try run("ip", "netns", "exec", ns(node), "ethtool", "-K", interface, "tx", "off")
            // Neighbours known from the start: a fresh namespace's neighbour discovery would
            // otherwise swallow the first probes of a trace.
            let peer = 3 - host
            try run("ip", "-n", ns(node), "neigh", "replace", "10.77.\(subnet).\(peer)", "lladdr", mac(peer), "dev", interface, "nud", "permanent")
            try run("ip", "-n", ns(node), "-6", "neigh", "replace", "fd77:\(subnet)::\(peer)", "lladdr", mac(peer), "dev", interface, "nud", "permanent")
        }
    }

    /// Sends r1's traffic for dst through r2 or r2b.
    func route(via node: Node) throws {
        try run("ip", "-n", ns(.r1), "route", "replace", "10.77.3.0/24", "via", node == .r2b ? "10.77.4.2" : "10.77.2.2")
    }

    /// Splits r1's traffic for dst over r2 and r2b per flow: hash policy 3 with addresses,
    /// protocol and ports (policy 1 hashes by socket on veth), and a fixed seed.
    func ecmp() throws {
        try run("ip", "netns", "exec", ns(.r1), "sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=3",
                "net.ipv4.fib_multipath_hash_fields=0x0037", "net.ipv4.fib_multipath_hash_seed=4242")
        try run("ip", "-n", ns(.r1), "route", "replace", "10.77.3.0/24", "nexthop", "via", "10.77.2.2", "nexthop", "via", "10.77.4.2")
    }

    /// A balancer behind a balancer, every branch four hops long: r1 splits per flow over r2
    /// and r2b; r2 splits again over r3 and r3b; r2b goes on through r3c alone.
    ///
    ///     r2  10.77.6.1 — 10.77.6.2 r3   10.77.8.1 — 10.77.8.2 dst
    ///     r2  10.77.7.1 — 10.77.7.2 r3b  10.77.9.1 — 10.77.9.2 dst
    ///     r2b 10.77.10.1 — 10.77.10.2 r3c 10.77.11.1 — 10.77.11.2 dst
    ///
    /// r2 hashes with another seed than r1, or every flow r1 sends it would take one branch.
    func nestedECMP() throws {
        for node in [Node.r3, .r3b, .r3c] { try add(node) }
        try link(.r2, .r3, 6)
        try link(.r2, .r3b, 7)
        try link(.r3, .dst, 8)
        try link(.r3b, .dst, 9)
        try link(.r2b, .r3c, 10)
        try link(.r3c, .dst, 11)
        for (node, upstream, downstream) in [(Node.r3, "10.77.6.1", "10.77.8.2"), (.r3b, "10.77.7.1", "10.77.9.2"), (.r3c, "10.77.10.1", "10.77.11.2")] {
            try run("ip", "-n", ns(node), "route", "add", "10.77.1.0/24", "via", upstream)
            try run("ip", "-n", ns(node), "route", "add", "10.77.3.2/32", "via", downstream)
        }
        try ecmp()
        try run("ip", "netns", "exec", ns(.r2), "sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=3",
                "net.ipv4.fib_multipath_hash_fields=0x0037", "net.ipv4.fib_multipath_hash_seed=7777")
        try run("ip", "-n", ns(.r2), "route", "replace", "10.77.3.2/32", "nexthop", "via", "10.77.6.2", "nexthop", "via", "10.77.7.2")
        try run("ip", "-n", ns(.r2b), "route", "replace", "10.77.3.2/32", "via", "10.77.10.2")
    }

    /// Makes r2 drop one packet in `oneIn` of those it forwards, at random (nftables numgen).
    func dropAtR2(oneIn: Int) throws {
        try run("ip", "netns", "exec", ns(.r2), "nft",
                "add table inet loss; add chain inet loss fw { type filter hook forward priority 0; }; add rule inet loss fw numgen random mod \(oneIn) == 0 drop")
    }

    /// Makes `node` send no time-exceeded messages.
    func silence(_ node: Node) throws {
        try run("ip", "netns", "exec", ns(node), "nft", "add table inet lab; add chain inet lab out { type filter hook output priority 0; }; add rule inet lab out icmp type time-exceeded drop")
    }

    func unsilence(_ node: Node) throws {
        try run("ip", "netns", "exec", ns(node), "nft", "delete table inet lab")
    }

    /// The delaying program, compiled once per test process from `nfq_delay.c`.
    private static let delayProgram: Result<String, LabError> = {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("nfq_delay.c").path
        let binary = NSTemporaryDirectory() + "/nfq_delay-\(ProcessInfo.processInfo.processIdentifier)"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["cc", "-O2", "-Wall", "-Werror", "-o", binary, source, "-lnetfilter_queue"]
        let err = Pipe()
        p.standardError = err
        do { try p.run() } catch { return .failure(LabError(command: "cc", message: "\(error)")) }
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return p.terminationStatus == 0 ? .success(binary) : .failure(LabError(command: "cc nfq_delay.c", message: message))
    }()

    /// Delays every packet r2 forwards to dst by `milliseconds`: iptables' NFQUEUE target hands
    /// them to a userspace program in r2 that holds each for that long (this kernel has no netem).
    func delay(milliseconds: Int) throws {
        let binary = try NetworkLab.delayProgram.get()
        // It binds the queue, then goes to the background and reports its pid: only then may
        // packets be queued to it.
        let line = try run("ip", "netns", "exec", ns(.r2), binary, "0", String(milliseconds))
        guard line.hasPrefix("ready "), let pid = pid_t(line.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabError(command: "nfq_delay", message: "did not start: \(line)")
        }
        helpers.append(pid)
        try run("ip", "netns", "exec", ns(.r2), "iptables", "-A", "FORWARD", "-d", NetworkLab.dst, "-j", "NFQUEUE", "--queue-num", "0")
    }

    /// Stops the lab's programs and removes every namespace it made (and with them their links).
    func tearDown() {
        for pid in helpers { kill(pid, SIGKILL) }
        helpers.removeAll()
        for n in created.reversed() { _ = try? run("ip", "netns", "del", n) }
        created.removeAll()
    }

    deinit { tearDown() }

    @discardableResult
    func run(_ args: String...) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = out
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw LabError(command: args.joined(separator: " "), message: String(decoding: e, as: UTF8.self))
        }
        return String(decoding: o, as: UTF8.self)
    }
}

struct LabError: Error, CustomStringConvertible {
    let command: String
    let message: String
    var description: String { "\(command): \(message)" }
}
