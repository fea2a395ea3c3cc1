import Foundation
import Testing

/// A real server against clients that misbehave before their request's head is read: one that
/// never finishes its head, one whose head is too large, one that sends no HTTP at all.
@Suite struct RequestHeadTests {
    /// A TCP connection to the server, written and read raw.
    final class RawConnection {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { throw ServerProcess.ServerError(message: "connect failed: errno \(errno)") }
            // A read waits at most this long, so a server that never closes fails the test.
            var tv = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        func send(_ text: String) {
            var bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }  // the server may close before it has read everything
                sent += n
            }
        }

        /// Everything the server sends until it closes the connection, and whether it did close
        /// (false: the read timed out with the connection still open).
        func readUntilClosed() -> (text: String, closed: Bool) {
            var out = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { out += buf[0..<n]; continue }
                return (String(decoding: out, as: UTF8.self), n == 0 || errno == ECONNRESET)
            }
        }
    }

    static func server(headerTimeout: String) throws -> (ServerProcess, Int, String) {
        let dir = NSTemporaryDirectory() + "/head-guard-\(UUID().uuidString)"
        let server = try ServerProcess(["--data", dir, "--header-timeout", headerTimeout])
        return (server, try #require(server.base.port), dir)
    }

    @Test func aClientThatNeverFinishesItsHeadIsDisconnected() throws {
        let (server, port, dir) = try Self.server(headerTimeout: "1s")
        defer { server.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let c = try RawConnection(port: port)
        let start = ContinuousClock.now
        c.send("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        let (text, closed) = c.readUntilClosed()
        let waited = ContinuousClock.now - start
        #expect(closed, "the connection was still open after 20 s")
        #expect(text.isEmpty, "no answer is owed to a head that never ended: \(text)")
        #expect(waited >= .milliseconds(900), "closed after \(waited), before the timeout")
        // The server goes on answering others.
        let ok = try RawConnection(port: port)
        ok.send("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        #expect(ok.readUntilClosed().text.hasPrefix("HTTP/1.1 200"))
    }

    @Test func aConnectionIdleAfterItsAnswerIsClosedAfterTheTimeout() throws {
        let (server, port, dir) = try Self.server(headerTimeout: "1s")
        defer { server.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let c = try RawConnection(port: port)
        c.send("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let (text, closed) = c.readUntilClosed()
        #expect(text.hasPrefix("HTTP/1.1 200"), "\(text)")
        #expect(closed, "a keep-alive connection with no next request stayed open")
    }

    @Test func pipelinedRequestsAreAllAnsweredBeforeTheIdleClose() throws {
        let (server, port, dir) = try Self.server(headerTimeout: "1s")
        defer { server.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let c = try RawConnection(port: port)
        let one = "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
        c.send(one + one + one)
        let (text, closed) = c.readUntilClosed()
        #expect(text.components(separatedBy: "HTTP/1.1 200").count - 1 == 3, "\(text)")
        #expect(closed)
    }

    @Test func anOversizedHeadIsAnswered431() throws {
        let (server, port, dir) = try Self.server(headerTimeout: "10s")
        defer { server.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let c = try RawConnection(port: port)
        c.send("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n")
        let (text, closed) = c.readUntilClosed()
        #expect(text.hasPrefix("HTTP/1.1 431"), "\(text.prefix(200))")
        #expect(text.contains("could not be read"))
        #expect(closed)
    }

    @Test func aHeadThatIsNotHTTPIsAnswered400() throws {
        let (server, port, dir) = try Self.server(headerTimeout: "10s")
        defer { server.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let c = try RawConnection(port: port)
        c.send("\u{1}\u{2}\u{3} this is not HTTP\r\n\r\n")
        let (text, closed) = c.readUntilClosed()
        #expect(text.hasPrefix("HTTP/1.1 400"), "\(text.prefix(200))")
        #expect(closed)
    }
}
