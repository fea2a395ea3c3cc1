import CProbeShims
import Foundation
import PathTSDB

#if canImport(Glibc)
import Glibc
#endif

/// A raw socket of the native prober: sends probes, receives ICMP with the kernel's receive
/// timestamp. Closed on deinit.
final class RawSocket: @unchecked Sendable {
    // `@unchecked Sendable`: the descriptor is fixed at creation; sendto and recvmsg on one
    // socket from different threads are safe (the kernel serialises them).
    let fd: Int32
    let family: Int32

    /// SO_TIMESTAMPNS (SO_TIMESTAMPNS_OLD; the same layout as the new one on 64-bit Linux),
    /// which Glibc's headers define through a macro Swift cannot import.
    static let soTimestampNS: Int32 = 35

    /// Room for the control messages of a receive; only the loop thread receives on a socket.
    private var control = [UInt8](repeating: 0, count: 256)

    private init(fd: Int32, family: Int32) {
        self.fd = fd
        self.family = family
    }

    deinit { close(fd) }

    /// Opens the prober's sockets for `family`, in network namespace `namespace` (a name under
    /// /var/run/netns) when given: a socket belongs to the namespace it was made in, so a
    /// thread enters it, makes them, and leaves.
    static func open(family: Int32, namespace: String?) throws(ProbeError) -> (send: RawSocket, receive: RawSocket, tcp: RawSocket) {
        let result: Result<(RawSocket, RawSocket, RawSocket), ProbeError> = inNamespace(namespace) {
            do throws(ProbeError) {
                return .success(try makeSockets(family: family))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func makeSockets(family: Int32) throws(ProbeError) -> (RawSocket, RawSocket, RawSocket) {
        func fail(_ what: String) -> ProbeError {
            let err = errno
            var e = ProbeError.system(.tracerFailed, what, errno: err)
            if err == EPERM || err == EACCES { e.message += " (raw sockets need root or CAP_NET_RAW)" }
            return e
        }
        let receive: RawSocket
        let send: RawSocket
        if family == AF_INET {
            let r = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMP))
            guard r >= 0 else { throw fail("cannot open a raw ICMP socket") }
            receive = RawSocket(fd: r, family: family)
            let s = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW))
            guard s >= 0 else { throw fail("cannot open a raw IP socket") }
            send = RawSocket(fd: s, family: family)
            var on: Int32 = 1
            setsockopt(s, Int32(IPPROTO_IP), IP_HDRINCL, &on, socklen_t(MemoryLayout<Int32>.size))
        } else {
            let r = socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
            guard r >= 0 else { throw fail("cannot open a raw ICMPv6 socket") }
            receive = RawSocket(fd: r, family: family)
            var on: Int32 = 1
            setsockopt(r, Int32(IPPROTO_IPV6), IPV6_RECVHOPLIMIT, &on, socklen_t(MemoryLayout<Int32>.size))
            // UDP probes go through a raw UDP socket (we write the header and its checksum);
            // echo probes through the ICMPv6 socket itself.
            let s = socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_UDP))
            guard s >= 0 else { throw fail("cannot open a raw UDP socket") }
            send = RawSocket(fd: s, family: family)
            // It would receive copies of all UDP for the host: keep its buffer minimal.
            var small: Int32 = 1
            setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        }
        // TCP answers (SYN-ACK, RST) come to a raw TCP socket; IPv6 TCP probes leave through it.
        let t = socket(family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_TCP))
        guard t >= 0 else { throw fail("cannot open a raw TCP socket") }
        let tcp = RawSocket(fd: t, family: family)
        // The kernel hands a raw TCP socket every TCP segment of the host: keep only what can
        // answer a SYN (SYN-ACK, RST), so a busy host's connections cost the prober nothing.
        tcp.attachFilter(family == AF_INET ? RawSocket.synAnswersV4 : RawSocket.synAnswersV6)
        for r in [receive, tcp] {
            var on: Int32 = 1
            setsockopt(r.fd, SOL_SOCKET, soTimestampNS, &on, socklen_t(MemoryLayout<Int32>.size))
            if family == AF_INET6 { setsockopt(r.fd, Int32(IPPROTO_IPV6), IPV6_RECVHOPLIMIT, &on, socklen_t(MemoryLayout<Int32>.size)) }
            var big: Int32 = 4 << 20
            setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &big, socklen_t(MemoryLayout<Int32>.size))
            // A blocking read that wakes up now and then, so the receiver can notice it should stop.
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        return (send, receive, tcp)
    }

    /// Runs `body` on a thread inside network namespace `name` (or here, without one).
    static func inNamespace<T>(_ name: String?, _ body: @escaping @Sendable () -> Result<T, ProbeError>) -> Result<T, ProbeError> {
        guard let name else { return body() }
        // setns changes the calling thread only: do it on a thread of our own, which then ends.
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let target = Glibc.open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
            guard target >= 0 else {
                box.value = .failure(ProbeError.system(.tracerFailed, "cannot open network namespace \(name)", errno: errno))
                return
            }
            defer { close(target) }
            guard smoketrace_enter_netns(target) == 0 else {
                box.value = .failure(ProbeError.system(.tracerFailed, "cannot enter network namespace \(name)", errno: errno))
                return
            }
            box.value = body()
        }
        thread.start()
        done.wait()
        return box.value ?? .failure(ProbeError(.tracerFailed, "network namespace \(name): no result"))
    }

    // MARK: - Socket filters

    /// One classic BPF instruction (struct sock_filter).
    typealias BPFInstruction = (code: UInt16, jt: UInt8, jf: UInt8, k: UInt32)

    /// TCP segments with RST, or SYN and ACK, set; the IPv4 header first (its length from the
    /// IHL, `ldxb 4*([0]&0xf)`).
    static let synAnswersV4: [BPFInstruction] = [
        (0xB1, 0, 0, 0),        // ldxb 4*([0]&0xf)
        (0x50, 0, 0, 13),       // ldb [x + 13]         TCP flags
        (0x45, 2, 0, 0x04),     // jset #RST            → accept
        (0x54, 0, 0, 0x12),     // and #(SYN|ACK)
        (0x15, 0, 1, 0x12),     // jeq #(SYN|ACK)       → accept, else reject
        (0x06, 0, 0, 0xFFFF),   // accept
        (0x06, 0, 0, 0),        // reject
    ]

    /// The same for IPv6, whose raw sockets see the segment without the IP header.
    static let synAnswersV6: [BPFInstruction] = [
        (0x30, 0, 0, 13),       // ldb [13]
        (0x45, 2, 0, 0x04),
        (0x54, 0, 0, 0x12),
        (0x15, 0, 1, 0x12),
        (0x06, 0, 0, 0xFFFF),
        (0x06, 0, 0, 0),
    ]

    /// Attaches a classic BPF program (SO_ATTACH_FILTER); without one the socket sees everything,
    /// which is correct, only slower.
    func attachFilter(_ program: [BPFInstruction]) {
        var code = [UInt8]()
        for i in program {
            withUnsafeBytes(of: i.code) { code += $0 }
            code.append(i.jt)
            code.append(i.jf)
            withUnsafeBytes(of: i.k) { code += $0 }
        }
        code.withUnsafeMutableBytes { instructions in
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
            var fprog = [UInt8](repeating: 0, count: 16)
            fprog.withUnsafeMutableBytes { f in
                f.storeBytes(of: UInt16(program.count), toByteOffset: 0, as: UInt16.self)
                f.storeBytes(of: UInt(bitPattern: instructions.baseAddress), toByteOffset: 8, as: UInt.self)
                _ = setsockopt(fd, SOL_SOCKET, 26 /* SO_ATTACH_FILTER */, f.baseAddress, socklen_t(16))
            }
        }
    }

    // MARK: - Sending

    /// Sends `packet` to `destination`; for IPv6 with hop limit `hopLimit` (IPv4 probes carry
    /// their TTL in their own header).
    func send(_ packet: [UInt8], to destination: IPAddress, hopLimit: UInt8) throws(ProbeError) {
        let sent: Int
        if family == AF_INET {
            var sin = RawSocket.sockaddrV4(destination)
            sent = packet.withUnsafeBytes { p in
                withUnsafePointer(to: &sin) { sa in
                    sa.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        } else {
            var sin6 = RawSocket.sockaddrV6(destination)
            // One control message: IPV6_HOPLIMIT (cmsghdr of 16 bytes, an int, padded to 24).
            var control = [UInt8](repeating: 0, count: 24)
            control.withUnsafeMutableBytes { c in
                c.storeBytes(of: 20, toByteOffset: 0, as: Int.self)
                c.storeBytes(of: Int32(IPPROTO_IPV6), toByteOffset: 8, as: Int32.self)
                c.storeBytes(of: Int32(IPV6_HOPLIMIT), toByteOffset: 12, as: Int32.self)
                c.storeBytes(of: Int32(hopLimit), toByteOffset: 16, as: Int32.self)
            }
            var data = packet
            sent = data.withUnsafeMutableBytes { p in
                control.withUnsafeMutableBytes { c in
                    withUnsafeMutablePointer(to: &sin6) { sa in
                        RawSocket.withMessage(p, name: sa, nameLength: MemoryLayout<sockaddr_in6>.size, control: c) { sendmsg(fd, &$0, 0) }
                    }
                }
            }
        }
        guard sent == packet.count else {
            throw ProbeError.system(.tracerFailed, "cannot send a probe to \(destination)", errno: errno)
        }
    }

    /// Calls `body` with a message header over one data buffer, an address and a control buffer.
    private static func withMessage<R>(_ data: UnsafeMutableRawBufferPointer, name: UnsafeMutableRawPointer, nameLength: Int,
                                       control: UnsafeMutableRawBufferPointer, _ body: (inout msghdr) -> R) -> R {
        var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
        return withUnsafeMutablePointer(to: &iov) { iovp in
            var msg = msghdr()
            msg.msg_name = name
            msg.msg_namelen = socklen_t(nameLength)
            msg.msg_iov = iovp
            msg.msg_iovlen = 1
            msg.msg_control = control.baseAddress
            msg.msg_controllen = control.count
            return body(&msg)
        }
    }

    // MARK: - Receiving

    /// One datagram received: its bytes (the start of the receive buffer), sender, hop limit
    /// (IPv6) and kernel receive time.
    struct Datagram {
        var bytes: ArraySlice<UInt8>
        var from: IPAddress?
        var hopLimit: UInt8
        var receivedMicros: Int64
    }

    /// Waits up to the socket's receive timeout for a datagram (with `wait` false, takes one
    /// only if it is there already); nil when none came.
    func receive(into buffer: inout [UInt8], wait: Bool = true) -> Datagram? {
        var name = sockaddr_storage()
        var controlLength = 0
        let n: Int = buffer.withUnsafeMutableBytes { p in
            control.withUnsafeMutableBytes { c in
                withUnsafeMutablePointer(to: &name) { sa in
                    RawSocket.withMessage(p, name: sa, nameLength: MemoryLayout<sockaddr_storage>.size, control: c) { msg in
                        let r = recvmsg(fd, &msg, wait ? 0 : Int32(MSG_DONTWAIT))
                        if r >= 0 { controlLength = Int(msg.msg_controllen) }
                        return r
                    }
                }
            }
        }
        guard n > 0 else { return nil }
        var received = WallClock.nowMicros()
        var hopLimit: UInt8 = 0
        // Walk the control messages: cmsghdr is { size_t len; int level; int type; } then data,
        // each aligned to 8 bytes.
        var offset = 0
        while offset + 16 <= controlLength {
            let len = control.withUnsafeBytes { $0.load(fromByteOffset: offset, as: Int.self) }
            let level = control.withUnsafeBytes { $0.load(fromByteOffset: offset + 8, as: Int32.self) }
            let type = control.withUnsafeBytes { $0.load(fromByteOffset: offset + 12, as: Int32.self) }
            guard len >= 16, offset + len <= controlLength else { break }
            if level == SOL_SOCKET && type == RawSocket.soTimestampNS && len >= 16 + 16 {
                let sec = control.withUnsafeBytes { $0.load(fromByteOffset: offset + 16, as: Int.self) }
                let nsec = control.withUnsafeBytes { $0.load(fromByteOffset: offset + 24, as: Int.self) }
                received = Int64(sec) * 1_000_000 + Int64(nsec) / 1000
            } else if level == Int32(IPPROTO_IPV6) && type == Int32(IPV6_HOPLIMIT) && len >= 20 {
                hopLimit = UInt8(clamping: control.withUnsafeBytes { $0.load(fromByteOffset: offset + 16, as: Int32.self) })
            }
            offset += (len + 7) & ~7
        }
        return Datagram(bytes: buffer[0..<n], from: RawSocket.address(of: name), hopLimit: hopLimit, receivedMicros: received)
    }

    // MARK: - Addresses

    static func sockaddrV4(_ a: IPAddress, port: UInt16 = 0) -> sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = (a.v4Value ?? 0).bigEndian
        return sin
    }

    static func sockaddrV6(_ a: IPAddress, port: UInt16 = 0) -> sockaddr_in6 {
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        let b = a.bytes
        withUnsafeMutableBytes(of: &sin6.sin6_addr) { for i in 0..<16 { $0[i] = b[i] } }
        return sin6
    }

    static func address(of s: sockaddr_storage) -> IPAddress? {
        var s = s
        switch Int32(s.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: &s) { p in
                let sin = p.load(as: sockaddr_in.self)
                return IPAddress(v4: UInt32(bigEndian: sin.sin_addr.s_addr))
            }
        case AF_INET6:
            return withUnsafeBytes(of: &s) { p in
                let sin6 = p.load(as: sockaddr_in6.self)
                return withUnsafeBytes(of: sin6.sin6_addr) { IPAddress(bytes: Array($0)) }
            }
        default:
            return nil
        }
    }

    /// A UDP socket for `family`, made in `namespace`, that `sourceAddress(toward:)` connects
    /// (nothing is sent) to learn the kernel's source address toward a destination.
    static func routeProbe(family: Int32, namespace: String?) throws(ProbeError) -> RawSocket {
        let result: Result<RawSocket, ProbeError> = inNamespace(namespace) {
            let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return .failure(ProbeError.system(.tracerFailed, "cannot open a UDP socket", errno: errno)) }
            return .success(RawSocket(fd: fd, family: family))
        }
        return try result.get()
    }

    /// The address the kernel sends from toward `destination`, on a socket from `routeProbe`.
    /// Callers serialise calls on one socket (connect and getsockname go together).
    func sourceAddress(toward destination: IPAddress) throws(ProbeError) -> IPAddress {
        var connected: Int32
        if family == AF_INET {
            var sin = RawSocket.sockaddrV4(destination, port: ProbePacket.udpDestinationPort)
            connected = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } else {
            var sin6 = RawSocket.sockaddrV6(destination, port: ProbePacket.udpDestinationPort)
            connected = withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        guard connected == 0 else {
            throw ProbeError.system(.tracerFailed, "no route to \(destination)", errno: errno)
        }
        var name = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &name) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard ok == 0, let a = RawSocket.address(of: name) else {
            throw ProbeError(.tracerFailed, "cannot tell the source address toward \(destination)")
        }
        return a
    }
}

/// A result handed from a helper thread back to its waiter.
///
/// `@unchecked Sendable`: written once on the helper thread before it signals, read after.
final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, ProbeError>?
    init() {}
}
