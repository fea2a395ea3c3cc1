/// A forward-only JSON scanner over bytes (RFC 8259), for formats whose shape is known: the
/// caller asks for the value it expects next, and anything unexpected is an error at the exact
/// byte offset. It allocates only for strings the caller keeps. The one JSON reader of the
/// project: the importers read their formats with it, and the API checks request bodies with
/// `firstProblem(in:)` before decoding them.
package struct JSONScanner {
    package struct Failure: Error {
        package let offset: Int
        package let message: String
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    @inline(__always) mutating func skipWhitespace() {
        while position < bytes.count {
            let c = bytes[position]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 } else { return }
        }
    }

    @inline(__always) func fail(_ message: String) -> Failure { Failure(offset: position, message: message) }

    func describe(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : String(format: c)
    }

    private func String(format c: UInt8) -> Swift.String { "byte 0x" + Swift.String(c, radix: 16) }

    @inline(__always) mutating func peek() throws(Failure) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw fail("unexpected end of input") }
        return bytes[position]
    }

    @inline(__always) mutating func expect(_ c: UInt8, _ what: String) throws(Failure) {
        let got = try peek()
        guard got == c else { throw fail("expected \(what), found \(describe(got))") }
        position += 1
    }

    /// Consumes `c` if it is next.
    @inline(__always) mutating func consume(_ c: UInt8) throws(Failure) -> Bool {
        if try peek() == c {
            position += 1
            return true
        }
        return false
    }

    /// Iterates an object's members: `body` is called with each key (as raw bytes, escapes left
    /// in) positioned at its value, and must consume the value.
    mutating func object(_ body: (inout JSONScanner, UnsafeBufferPointer<UInt8>) throws(Failure) -> Void) throws(Failure) {
        try expect(0x7B, "'{'")
        if try consume(0x7D) { return }
        while true {
            let keyStart = position
            let key = try rawString()
            if key.contains(0x5C) {
                // A key with escapes: check them as a string value's are checked.
                var check = JSONScanner(bytes, position: keyStart)
                try check.skipString()
            }
            try expect(0x3A, "':' after an object key")
            try body(&self, key)
            if try consume(0x2C) { continue }
            try expect(0x7D, "',' or '}'")
            return
        }
    }

    /// Iterates an array's elements; `body` must consume each.
    mutating func array(_ body: (inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        try expect(0x5B, "'['")
        if try consume(0x5D) { return }
        while true {
            try body(&self)
            if try consume(0x2C) { continue }
            try expect(0x5D, "',' or ']'")
            return
        }
    }

    /// A string's bytes between the quotes, escapes undecoded.
    mutating func rawString() throws(Failure) -> UnsafeBufferPointer<UInt8> {
        try expect(0x22, "a string")
        let start = position
        while position < bytes.count {
            let c = bytes[position]
            if c == 0x22 {
                defer { position += 1 }
                return UnsafeBufferPointer(rebasing: bytes[start..<position])
            }
            if c == 0x5C { position += 1 }
            else if c < 0x20 { throw fail("control character in a string") }
            position += 1
        }
        throw fail("string not terminated")
    }

    /// A string, with escapes decoded.
    mutating func string() throws(Failure) -> Swift.String {
        let start = position
        let raw = try rawString()
        guard raw.contains(0x5C) else { return Swift.String(decoding: raw, as: UTF8.self) }
        var out = [UInt8]()
        var i = 0
        while i < raw.count {
            let c = raw[i]
            guard c == 0x5C, i + 1 < raw.count else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var v: UInt32 = 0
                guard i + 4 <= raw.count else { throw Failure(offset: start, message: "truncated \\u escape") }
                for k in 0..<4 {
                    guard let h = JSONScanner.hex(raw[i + k]) else { throw Failure(offset: start, message: "bad \\u escape") }
                    v = v << 4 | h
                }
                i += 4
                out.append(contentsOf: Array(Swift.String(Unicode.Scalar(v).map(Character.init) ?? "\u{FFFD}").utf8))
            default:
                throw Failure(offset: start, message: "unknown escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        return Swift.String(decoding: out, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        default: nil
        }
    }

    /// A number as (mantissa, decimal exponent), exact for up to 18 significant digits.
    mutating func decimal() throws(Failure) -> (mantissa: Int64, exponent: Int) {
        _ = try peek()
        var negative = false
        if bytes[position] == 0x2D { negative = true; position += 1 }
        var m: Int64 = 0
        var exp = 0
        var digits = 0
        var any = false
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
            if digits < 18 { m = m * 10 + Int64(bytes[position] - 0x30); if m > 0 { digits += 1 } } else { exp += 1 }
            position += 1
            any = true
        }
        if position < bytes.count, bytes[position] == 0x2E {
            position += 1
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                if digits < 18 { m = m * 10 + Int64(bytes[position] - 0x30); exp -= 1; if m > 0 { digits += 1 } }
                position += 1
                any = true
            }
        }
        guard any else { throw fail("expected a number") }
        if position < bytes.count, bytes[position] == 0x65 || bytes[position] == 0x45 {
            position += 1
            var eneg = false
            if position < bytes.count, bytes[position] == 0x2D || bytes[position] == 0x2B { eneg = bytes[position] == 0x2D; position += 1 }
            var e = 0
            var edigits = 0
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                e = min(e * 10 + Int(bytes[position] - 0x30), 10_000)
                position += 1
                edigits += 1
            }
            guard edigits > 0 else { throw fail("exponent without digits") }
            exp += eneg ? -e : e
        }
        return (negative ? -m : m, exp)
    }

    /// An integer value; a fractional or out-of-range number is an error.
    mutating func integer() throws(Failure) -> Int64 {
        let start = position
        let (m, e) = try decimal()
        var v = m
        if e < 0 {
            var p: Int64 = 1
            for _ in 0..<min(-e, 18) { p *= 10 }
            guard v % p == 0 else { throw Failure(offset: start, message: "expected an integer") }
            v /= p
        } else if e > 0 {
            for _ in 0..<e {
                let (r, o) = v.multipliedReportingOverflow(by: 10)
                guard !o else { throw Failure(offset: start, message: "integer out of range") }
                v = r
            }
        }
        return v
    }

    /// The last second of 9999-12-31, the largest Unix time any reader here accepts: a time
    /// in microseconds then still fits in `Int64` with room for durations.
    static let maxUnixSeconds: Int64 = 253_402_300_799

    /// A Unix time in whole seconds, returned in microseconds; outside 1970 to 9999 is an error
    /// at the number, never an overflow.
    mutating func unixSecondsAsMicros(_ field: StaticString) throws(Failure) -> Int64 {
        let start = position
        let v = try integer()
        guard v >= 0, v <= JSONScanner.maxUnixSeconds else {
            // The number as written: `integer()` keeps 18 significant digits, which would
            // misquote a longer one.
            let written = Swift.String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<min(position, start + 40)]), as: UTF8.self)
            throw Failure(offset: start, message: "\(field) \(written) is not a Unix time from 1970 to 9999")
        }
        return v * 1_000_000
    }

    /// A number scaled by 10^`scale` and rounded half away from zero (e.g. ms → µs with scale 3).
    mutating func scaled(_ scale: Int) throws(Failure) -> Int64 {
        let start = position
        let (m, e) = try decimal()
        let shift = e + scale
        if shift >= 0 {
            var v = m
            for _ in 0..<shift {
                let (r, o) = v.multipliedReportingOverflow(by: 10)
                guard !o else { throw Failure(offset: start, message: "number out of range") }
                v = r
            }
            return v
        }
        if -shift > 18 { return 0 }
        var p: Int64 = 1
        for _ in 0..<(-shift) { p *= 10 }
        let q = m / p, r = m % p
        return abs(r) * 2 >= p ? q + (m < 0 ? -1 : 1) : q
    }

    /// How deep `skipValue` follows nested objects and arrays. Every format read here is a few
    /// levels deep; the bound keeps a hostile document from exhausting the stack.
    static let maxSkipDepth = 128

    /// Skips any value, nested at most `maxSkipDepth` levels below this one.
    mutating func skipValue() throws(Failure) {
        try skipValue(depth: 0)
    }

    private mutating func skipValue(depth: Int) throws(Failure) {
        let c = try peek()
        if c == 0x7B || c == 0x5B {
            guard depth < JSONScanner.maxSkipDepth else {
                throw fail("nested deeper than \(JSONScanner.maxSkipDepth) levels")
            }
        }
        switch c {
        case 0x7B:
            try object { (s: inout JSONScanner, _) throws(Failure) in try s.skipValue(depth: depth + 1) }
        case 0x5B: try array { (s: inout JSONScanner) throws(Failure) in try s.skipValue(depth: depth + 1) }
        case 0x22: try skipString()
        case 0x74: try literal("true")
        case 0x66: try literal("false")
        case 0x6E: try literal("null")
        case 0x2D, 0x30...0x39: try skipNumber()
        default: throw fail("expected a value, found \(describe(c))")
        }
    }

    /// An error at the current byte that says what is there.
    private func failFound(_ message: String) -> Failure {
        fail("\(message), found \(position < bytes.count ? describe(bytes[position]) : "the end of the input")")
    }

    /// Skips a string, checking every escape: a `\u` escape must hold four hex digits, and a
    /// surrogate must come in a high and low pair.
    private mutating func skipString() throws(Failure) {
        try expect(0x22, "a string")
        while position < bytes.count {
            let c = bytes[position]
            if c == 0x22 { position += 1; return }
            if c < 0x20 { throw fail("control character in a string") }
            if c >= 0x80 {
                try skipUTF8Sequence()
                continue
            }
            if c == 0x5C {
                position += 1
                guard position < bytes.count else { break }
                switch bytes[position] {
                case 0x75:
                    let unit = try hex4()
                    if (0xDC00...0xDFFF).contains(unit) { throw failFound("a \\u escape holds a lone low surrogate") }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard position + 2 < bytes.count, bytes[position + 1] == 0x5C, bytes[position + 2] == 0x75 else {
                            throw failFound("a \\u escape holds a lone high surrogate")
                        }
                        position += 2
                        guard (0xDC00...0xDFFF).contains(try hex4()) else { throw failFound("a \\u escape holds a lone high surrogate") }
                    }
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: break
                default: throw failFound("unknown escape in a string")
                }
            }
            position += 1
        }
        throw fail("string not terminated")
    }

    /// Steps over one multi-byte UTF-8 sequence (`position` on its lead byte) as RFC 3629 allows
    /// it: no overlong forms, no surrogates, nothing past U+10FFFF. A name with bytes that are
    /// not UTF-8 is refused here, at the byte, instead of by the decoder without a position.
    private mutating func skipUTF8Sequence() throws(Failure) {
        let lead = bytes[position]
        // The continuation count, and the range of the first continuation byte.
        let (count, first): (Int, ClosedRange<UInt8>) = switch lead {
        case 0xC2...0xDF: (1, 0x80...0xBF)
        case 0xE0: (2, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (2, 0x80...0xBF)
        case 0xED: (2, 0x80...0x9F)
        case 0xF0: (3, 0x90...0xBF)
        case 0xF1...0xF3: (3, 0x80...0xBF)
        case 0xF4: (3, 0x80...0x8F)
        default: throw fail("invalid UTF-8 in a string: byte 0x\(Swift.String(lead, radix: 16)) cannot start a character")
        }
        for k in 1...count {
            let i = position + k
            guard i < bytes.count, (k == 1 ? first : 0x80...0xBF).contains(bytes[i]) else {
                throw fail("invalid UTF-8 in a string: the character starting here is malformed")
            }
        }
        position += count + 1
    }

    /// The four hex digits after `\u` (`position` on the `u`), leaving `position` on the last.
    private mutating func hex4() throws(Failure) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            position += 1
            guard position < bytes.count, let h = JSONScanner.hex(bytes[position]) else { throw failFound("expected four hex digits after \\u") }
            v = v << 4 | h
        }
        return v
    }

    /// Skips a number as RFC 8259 writes one: `-`, digits without a leading zero, an optional
    /// fraction and exponent, each with at least one digit.
    private mutating func skipNumber() throws(Failure) {
        func digits(_ s: inout JSONScanner) -> Int {
            let start = s.position
            while s.position < s.bytes.count, s.bytes[s.position] >= 0x30, s.bytes[s.position] <= 0x39 { s.position += 1 }
            return s.position - start
        }
        if bytes[position] == 0x2D { position += 1 }
        let first = position
        let n = digits(&self)
        guard n > 0 else { throw failFound("expected a digit") }
        if n > 1 && bytes[first] == 0x30 { position = first; throw failFound("a number with a leading zero") }
        if position < bytes.count, bytes[position] == 0x2E {
            position += 1
            guard digits(&self) > 0 else { throw failFound("expected a digit after '.'") }
        }
        if position < bytes.count, bytes[position] == 0x65 || bytes[position] == 0x45 {
            position += 1
            if position < bytes.count, bytes[position] == 0x2B || bytes[position] == 0x2D { position += 1 }
            guard digits(&self) > 0 else { throw failFound("expected a digit in the exponent") }
        }
    }

    mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard position + n <= bytes.count else { throw fail("unexpected end of input") }
        for i in 0..<n where bytes[position + i] != word.utf8Start[i] { throw fail("expected \(word)") }
        position += n
    }

    /// Whether `null` is next (consumed if so).
    mutating func null() throws(Failure) -> Bool {
        if try peek() == 0x6E {
            try literal("null")
            return true
        }
        return false
    }

    mutating func bool() throws(Failure) -> Bool {
        switch try peek() {
        case 0x74: try literal("true"); return true
        case 0x66: try literal("false"); return false
        case let c: throw fail("expected true or false, found \(describe(c))")
        }
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Whether the bytes equal an ASCII key.
    @inline(__always) func equals(_ key: StaticString) -> Bool {
        guard count == key.utf8CodeUnitCount else { return false }
        let p = key.utf8Start
        for i in 0..<count where self[i] != p[i] { return false }
        return true
    }
}

extension JSONScanner {
    /// Where a JSON text stops being JSON, by line and column (columns count characters).
    package struct Problem: Error, Equatable {
        package var line: Int
        package var column: Int
        package var message: String
    }

    /// The first syntax error in `bytes`, or nil when they hold one JSON value and nothing
    /// more. Foundation's decoder on Linux says only that data is "not valid JSON"; an API
    /// client is told where and why.
    package static func firstProblem(in bytes: [UInt8]) -> Problem? {
        bytes.withUnsafeBufferPointer { buffer in
            var s = JSONScanner(buffer)
            do throws(Failure) {
                try s.skipValue()
                s.skipWhitespace()
                if s.position < buffer.count { throw s.fail("unexpected text after the JSON value") }
                return nil
            } catch {
                var line = 1, column = 1
                for b in buffer[0..<min(error.offset, buffer.count)] {
                    if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
                }
                return Problem(line: line, column: column, message: error.message)
            }
        }
    }
}
