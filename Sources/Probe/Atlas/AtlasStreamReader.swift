#if canImport(Glibc)
import Glibc
#endif
public import PathTSDB

/// Reads RIPE Atlas traceroute results from a file or standard input, in either form the Atlas
/// API gives: one JSON object per line, or one JSON array of objects. It streams: memory stays
/// at the size of a read buffer and the largest single result, whatever the input's size.
///
/// Malformed input stops the read with a `ProbeError` naming the line, column and byte offset;
/// the results before it have been delivered.
public struct AtlasStreamReader: Sendable {
    /// Counts of what was read but is not a probe (late and duplicate replies, hop errors).
    public struct Summary: Sendable, Equatable {
        /// Results read.
        public var results = 0
        /// Bytes read.
        public var bytes: Int64 = 0
        /// Replies marked late (`"late"`): answers to an earlier probe, not stored.
        public var lateReplies = 0
        /// Replies marked duplicate (`"dup"`), not stored.
        public var duplicateReplies = 0
        /// Hops that reported an error instead of replies.
        public var hopErrors = 0
        /// `"hop": 255` trailers after a trace that ended lower: not hops, not stored.
        public var trailers = 0
        /// Results that reported an error instead of hops: failed traces, stored as such.
        public var failures: [MissedSlot] = []
    }

    /// Bytes read from the file at a time.
    public let chunkSize: Int

    /// A reader that reads `chunkSize` bytes at a time.
    public init(chunkSize: Int = 4 << 20) {
        self.chunkSize = chunkSize
    }

    /// Reads `path` ("-" for standard input), handing results to `deliver` in batches of up to
    /// `batchSize`.
    public func read(path: String, batchSize: Int = 4096,
                     deliver: ([TraceRun]) throws -> Void) throws -> Summary {
        let fd: Int32 = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ProbeError.system(.io, "cannot open", errno: errno, source: path)
        }
        defer { if fd != 0 { close(fd) } }
        let name = path == "-" ? "<stdin>" : path
        return try read(name: name, batchSize: batchSize, deliver: deliver) { buffer in
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw ProbeError.system(.io, "read failed", errno: errno, source: name) }
            return n
        }
    }

    /// Reads from an in-memory buffer (tests, HTTP bodies).
    public func read(bytes: [UInt8], name: String, batchSize: Int = 4096,
                     deliver: ([TraceRun]) throws -> Void) throws -> Summary {
        var offset = 0
        return try read(name: name, batchSize: batchSize, deliver: deliver) { buffer in
            let n = min(buffer.count, bytes.count - offset)
            for i in 0..<n { buffer[i] = bytes[offset + i] }
            offset += n
            return n
        }
    }

    private enum Framing { case unknown, lines, array, arrayDone }

    /// The streaming loop: keeps a buffer, finds each complete top-level object by brace
    /// matching, parses it, and carries the unfinished tail over to the next read.
    func read(name: String, batchSize: Int, deliver: ([TraceRun]) throws -> Void,
              fill: (inout [UInt8]) throws -> Int) throws -> Summary {
        var summary = Summary()
        var parser = AtlasResultParser()
        var buffer = [UInt8]()
        var readBuffer = [UInt8](repeating: 0, count: chunkSize)
        var start = 0               // first unconsumed byte in buffer
        var bufferFileOffset: Int64 = 0
        // Line numbers are counted lazily, up to `counted`: only errors and dropped bytes need them.
        var counted = 0
        var line = 1                // line number at `counted`
        var lineStart: Int64 = 0    // file offset of the line containing `counted`
        var eof = false
        var framing = Framing.unknown
        var batch = [TraceRun]()
        batch.reserveCapacity(batchSize)

        func catchUp(to i: Int) {
            guard i > counted else { return }
            buffer.withUnsafeBufferPointer { b in
                var newlines = 0
                for k in counted..<i where b[k] == 0x0A { newlines += 1 }
                if newlines > 0 {
                    line += newlines
                    var k = i - 1
                    while b[k] != 0x0A { k -= 1 }
                    lineStart = bufferFileOffset + Int64(k) + 1
                }
            }
            counted = i
        }
        func error(_ message: String, at i: Int) -> ProbeError {
            catchUp(to: min(i, buffer.count))
            let column = Int(bufferFileOffset + Int64(i) - lineStart) + 1
            return ProbeError(.malformedInput, message, source: name, line: line, column: column, offset: bufferFileOffset + Int64(i))
        }
        func parse(from begin: Int, to end: Int) -> Result<(AtlasResultParser.Outcome, Int), JSONScanner.Failure> {
            buffer.withUnsafeBufferPointer { all in
                var s = JSONScanner(UnsafeBufferPointer(rebasing: all[0..<end]), position: begin)
                do throws(JSONScanner.Failure) {
                    let run = try parser.parse(&s)
                    return .success((run, s.position))
                } catch {
                    return .failure(error)
                }
            }
        }

        do {
            try readLoop()
        } catch {
            // Results read before the bad one are delivered, not dropped.
            if !batch.isEmpty { try deliver(batch) }
            throw error
        }
        if !batch.isEmpty { try deliver(batch) }
        summary.bytes = bufferFileOffset + Int64(buffer.count)
        summary.lateReplies = parser.tally.lateReplies
        summary.duplicateReplies = parser.tally.duplicateReplies
        summary.hopErrors = parser.tally.hopErrors
        summary.trailers = parser.tally.trailers
        return summary

        func readLoop() throws {
            while true {
                // Skip separators between results.
                var i = start
                scan: while true {
                    while i < buffer.count {
                        let c = buffer[i]
                        if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1; continue }
                        if framing == .unknown {
                            framing = c == 0x5B ? .array : .lines
                            if c == 0x5B { i += 1; continue }
                        }
                        if framing == .array && (c == 0x2C) { i += 1; continue }
                        if framing == .array && c == 0x5D { framing = .arrayDone; i += 1; continue }
                        break scan
                    }
                    if eof { break scan }
                    start = i
                    try refill()
                    i = start
                }
                start = i
                if i >= buffer.count {
                    if framing == .array { throw error("input ends inside the top-level array (missing ']')", at: i) }
                    break
                }
                if framing == .arrayDone { throw error("data after the end of the top-level array", at: i) }
                guard buffer[i] == 0x7B else {
                    throw error("expected '{' to start a traceroute result, found \(describe(buffer[i]))", at: i)
                }
                // In JSON lines the result ends at the newline; a result spread over several
                // lines (or any in an array) is delimited by matching its braces.
                var parsed: Result<(AtlasResultParser.Outcome, Int), JSONScanner.Failure>?
                if framing == .lines {
                    var newline = -1
                    while newline < 0 {
                        newline = buffer.withUnsafeBufferPointer { b -> Int in
                            guard let base = b.baseAddress, start < b.count,
                                  let hit = memchr(base + start, 0x0A, b.count - start) else { return -1 }
                            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                        }
                        if newline < 0 {
                            if eof { newline = buffer.count; break }
                            try refill()
                        }
                    }
                    let attempt = parse(from: start, to: newline)
                    if case .failure(let f) = attempt, f.offset >= newline {
                        parsed = nil  // ran into the line's end: a result over several lines
                    } else {
                        parsed = attempt
                    }
                }
                if parsed == nil {
                    var end = -1
                    while end < 0 {
                        end = AtlasStreamReader.objectEnd(buffer, from: start)
                        if end < 0 {
                            if eof { throw error("input ends inside the traceroute result that starts here", at: start) }
                            try refill()
                        }
                    }
                    parsed = parse(from: start, to: end)
                }
                switch parsed {
                case .success(let (.failed(slot), end)):
                    summary.failures.append(slot)
                    summary.results += 1
                    start = end
                case .success(let (.run(run), end)):
                    batch.append(run)
                    summary.results += 1
                    if batch.count >= batchSize {
                        try deliver(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                    start = end
                case .failure(let f):
                    throw error(f.message, at: f.offset)
                case nil:
                    preconditionFailure("a result is parsed by one of the two ways above")
                }
            }
        }

        func refill() throws {
            // Drop consumed bytes (counting their lines first), then append one read.
            if start > 0 {
                catchUp(to: start)
                buffer.removeSubrange(0..<start)
                bufferFileOffset += Int64(start)
                counted -= start
                start = 0
            }
            let n = try fill(&readBuffer)
            if n == 0 { eof = true } else { buffer.append(contentsOf: readBuffer[0..<n]) }
        }
    }

    private func describe(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(String(c, radix: 16))"
    }

    /// The index just past the `}` closing the object that starts at `from`, or -1 when the
    /// buffer ends first.
    static func objectEnd(_ b: [UInt8], from: Int) -> Int {
        var depth = 0
        var i = from
        var inString = false
        let n = b.count
        return b.withUnsafeBufferPointer { p -> Int in
            while i < n {
                let c = p[i]
                if inString {
                    if c == 0x5C { i += 2; continue }
                    if c == 0x22 { inString = false }
                } else if c == 0x22 {
                    inString = true
                } else if c == 0x7B || c == 0x5B {
                    depth += 1
                } else if c == 0x7D || c == 0x5D {
                    depth -= 1
                    if depth == 0 { return i + 1 }
                }
                i += 1
            }
            return -1
        }
    }
}
