import HTTPTypes
import Synchronization

/// The answers `POST /runs` gave to requests that carried an `Idempotency-Key` header
/// (draft-ietf-httpapi-idempotency-key-header): a client that lost an answer sends the request
/// again with the same key and gets the first answer back, not a second store.
///
/// A key is scoped to the token that sent it. An answer is kept for `lifetime`, and at most
/// `capacity` of them (the oldest go first); only a success is kept, since a failed request
/// stored nothing and may simply be tried again. The store keeps each run once whatever the
/// key says, so a key that has expired, or a server restarted in between, still stores nothing
/// twice: the retry is answered with the runs counted as duplicates.
final class IdempotencyKeys: Sendable {
    /// What the server answered.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var body: [UInt8]
    }

    /// What to do with a request that carries a key.
    enum Claim: Sendable, Equatable {
        /// First seen: handle it, then `finish`.
        case fresh
        /// Seen and answered: send this again.
        case replay(status: HTTPResponse.Status, body: [UInt8])
        /// A request with this key is being handled now (409).
        case inFlight
        /// The key was used for another request (422).
        case reused
    }

    private struct Entry {
        var fingerprint: Int
        var answer: Answer?
        var expiresMicros: Int64
        /// Which listing in `order` is this entry's.
        var serial: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys oldest first, for eviction; a listing whose serial is not its entry's is stale
        /// (the key was forgotten, and perhaps claimed again since).
        var order: [(id: String, serial: Int)] = []
        var orderStart = 0
        var nextSerial = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    let lifetimeMicros: Int64

    init(capacity: Int = 10_000, lifetimeMicros: Int64 = 24 * 3600 * 1_000_000) {
        self.capacity = capacity
        self.lifetimeMicros = lifetimeMicros
    }

    /// A key must be short printable ASCII: it is a client's opaque token (the draft makes it a
    /// structured-field string, so surrounding quotes are taken off).
    static func parse(_ header: String) -> String? {
        var key = Substring(header)
        if key.count >= 2, key.first == "\"", key.last == "\"" { key = key.dropFirst().dropLast() }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return String(key)
    }

    /// Looks `key` up for a request whose content hashes to `fingerprint`.
    func claim(_ key: String, scope: String, fingerprint: Int, nowMicros: Int64) -> Claim {
        let id = scope + "\u{0}" + key
        return state.withLock { s in
            evict(&s, nowMicros: nowMicros)
            if let e = s.entries[id] {
                guard e.fingerprint == fingerprint else { return .reused }
                guard let a = e.answer else { return .inFlight }
                return .replay(status: a.status, body: a.body)
            }
            s.nextSerial += 1
            s.entries[id] = Entry(fingerprint: fingerprint, answer: nil, expiresMicros: nowMicros + lifetimeMicros, serial: s.nextSerial)
            s.order.append((id, s.nextSerial))
            return .fresh
        }
    }

    /// Keeps the answer to a claimed key, or forgets the key when the request failed (nil).
    func finish(_ key: String, scope: String, answer: Answer?, nowMicros: Int64) {
        let id = scope + "\u{0}" + key
        state.withLock { s in
            guard let answer else {
                s.entries[id] = nil
                return
            }
            s.entries[id]?.answer = answer
            s.entries[id]?.expiresMicros = nowMicros + lifetimeMicros
        }
    }

    /// How many keys are held.
    var count: Int { state.withLock { $0.entries.count } }

    private func evict(_ s: inout State, nowMicros: Int64) {
        while s.orderStart < s.order.count {
            let (id, serial) = s.order[s.orderStart]
            guard let e = s.entries[id], e.serial == serial else {
                s.orderStart += 1
                continue
            }
            // The oldest key goes when it has expired or the cache is full; one in flight stays.
            guard e.answer != nil, e.expiresMicros <= nowMicros || s.entries.count >= capacity else { break }
            s.entries[id] = nil
            s.orderStart += 1
        }
        if s.orderStart > 1024 && s.orderStart * 2 > s.order.count {
            s.order.removeFirst(s.orderStart)
            s.orderStart = 0
        }
    }
}
