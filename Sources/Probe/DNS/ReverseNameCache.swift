#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
package import PathTSDB
import Synchronization

/// The names of hop addresses from reverse DNS, looked up in the background and kept for the
/// TTL their answer gave: a page asks for the names of its addresses and gets those known now,
/// never waiting; the lookups it starts serve the next page. A failed lookup (a timeout, a
/// garbled answer) is kept as "no name" for a minute, NXDOMAIN for its five.
package final class ReverseNameCache: Sendable {
    /// The resolver asked: an address and a UDP port.
    package struct Server: Sendable, Equatable, CustomStringConvertible {
        package var address: IPAddress
        package var port: UInt16

        package init(address: IPAddress, port: UInt16 = 53) {
            self.address = address
            self.port = port
        }

        /// `ADDR`, `ADDR:PORT` or `[V6ADDR]:PORT`; nil when it is none of these.
        package init?(_ text: String) {
            if text.hasPrefix("["), let close = text.firstIndex(of: "]"), let a = IPAddress(String(text[text.index(after: text.startIndex)..<close])) {
                let rest = text[text.index(after: close)...]
                guard rest.isEmpty || rest.hasPrefix(":") else { return nil }
                guard let port = rest.isEmpty ? 53 : UInt16(rest.dropFirst()), port > 0 else { return nil }
                self.init(address: a, port: port)
            } else if let a = IPAddress(text) {
                self.init(address: a)
            } else {
                let parts = text.split(separator: ":")
                guard parts.count == 2, let a = IPAddress(String(parts[0])), let port = UInt16(parts[1]), port > 0 else { return nil }
                self.init(address: a, port: port)
            }
        }

        /// The first `nameserver` of `/etc/resolv.conf` (or of `text`).
        package static func system(resolvConf text: String? = nil) -> Server? {
            let conf = text ?? ((try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? "")
            for line in conf.split(whereSeparator: \.isNewline) {
                let words = line.split(whereSeparator: \.isWhitespace)
                if words.count >= 2, words[0] == "nameserver", let a = IPAddress(String(words[1])) { return Server(address: a) }
            }
            return nil
        }

        package var description: String { address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
    }

    private struct Entry {
        var name: String?
        var expiresMicros: Int64
    }

    private struct State {
        var entries: [IPAddress: Entry] = [:]
        var inFlight: Set<IPAddress> = []
        var nextID: UInt16 = 1
    }

    package let server: Server
    /// How long one lookup waits for its answer.
    package let timeout: Duration
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "smoketrace.reverse-dns", attributes: .concurrent)
    /// Lookups at once; more wait for the next page.
    static let maxInFlight = 32
    /// Entries kept; past it the expired ones go, then the oldest to expire.
    static let capacity = 100_000

    package init(server: Server, timeout: Duration = .seconds(2)) {
        self.server = server
        self.timeout = timeout
    }

    /// The names known now of `addresses` (those without one are left out), starting lookups
    /// for the others.
    package func names(of addresses: [IPAddress], nowMicros: Int64 = WallClock.nowMicros()) -> [IPAddress: String] {
        var known = [IPAddress: String](), wanted = [(IPAddress, UInt16)]()
        state.withLock { s in
            for a in Set(addresses) {
                if let e = s.entries[a], e.expiresMicros > nowMicros {
                    if let name = e.name { known[a] = name }
                    continue
                }
                guard !s.inFlight.contains(a), s.inFlight.count < ReverseNameCache.maxInFlight else { continue }
                s.inFlight.insert(a)
                wanted.append((a, s.nextID))
                s.nextID &+= 1
            }
        }
        for (address, id) in wanted {
            queue.async { self.resolve(address, id: id) }
        }
        return known
    }

    /// Looks `address` up now and waits for the answer (the tests, and a caller that may wait).
    package func lookup(_ address: IPAddress) throws(ProbeError) -> PTRMessage.Answer {
        let id = state.withLock { s in
            defer { s.nextID &+= 1 }
            return s.nextID
        }
        return try exchange(address, id: id)
    }

    private func resolve(_ address: IPAddress, id: UInt16) {
        let now = WallClock.nowMicros()
        let entry: Entry
        switch Result(catching: { () throws(ProbeError) in try exchange(address, id: id) }) {
        case .success(.name(let name, let ttl)):
            entry = Entry(name: name, expiresMicros: now + Int64(min(max(ttl, 30), 86_400)) * 1_000_000)
        case .success(.none):
            entry = Entry(name: nil, expiresMicros: now + 300_000_000)
        case .failure:
            entry = Entry(name: nil, expiresMicros: now + 60_000_000)
        }
        state.withLock { s in
            s.inFlight.remove(address)
            if s.entries.count >= ReverseNameCache.capacity {
                s.entries = s.entries.filter { $0.value.expiresMicros > now }
                while s.entries.count >= ReverseNameCache.capacity, let oldest = s.entries.min(by: { $0.value.expiresMicros < $1.value.expiresMicros }) {
                    s.entries[oldest.key] = nil
                }
            }
            s.entries[address] = entry
        }
    }

    /// One query and its answer over UDP.
    private func exchange(_ address: IPAddress, id: UInt16) throws(ProbeError) -> PTRMessage.Answer {
        let v4 = server.address.isIPv4
        let fd = socket(v4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProbeError(.io, "reverse DNS: socket: \(String(cString: strerror(errno)))", systemError: errno) }
        defer { close(fd) }
        let connected: Int32
        if v4 {
            var sin = RawSocket.sockaddrV4(server.address, port: server.port)
            connected = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } else {
            var sin6 = RawSocket.sockaddrV6(server.address, port: server.port)
            connected = withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        guard connected == 0 else { throw ProbeError(.io, "reverse DNS: connect to \(server): \(String(cString: strerror(errno)))", systemError: errno) }
        let query = PTRMessage.query(id: id, address: address)
        guard query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else {
            throw ProbeError(.io, "reverse DNS: send to \(server): \(String(cString: strerror(errno)))", systemError: errno)
        }
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw ProbeError(.io, "reverse DNS: no answer from \(server) within \(timeout)") }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            guard poll(&p, 1, ms) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw ProbeError(.io, "reverse DNS: receive from \(server): \(String(cString: strerror(errno)))", systemError: errno) }
            let message = Array(buffer[0..<n])
            // Another query's late answer: wait on for ours.
            guard message.count >= 2, UInt16(message[0]) << 8 | UInt16(message[1]) == id else { continue }
            return try PTRMessage.answer(message, id: id)
        }
    }
}
