import Probe
/// How the HTTP API is exposed and bounded.
struct ServerSettings: Sendable {
    var host = "127.0.0.1"
    var port = 8470
    /// Bearer tokens that may write and administer; empty means writes are refused.
    var tokens: Set<String> = []
    /// Whether reads (queries, exports, lists) need a token too.
    var privateReads = false
    /// Largest request body accepted.
    var maxBodyBytes = 8 << 20
    /// Longest a query may run.
    var queryTimeout: Duration = .seconds(30)
    /// Longest a connection may take to send a request's head (see `RequestHeadGuard`).
    var headerTimeout: Duration = .seconds(10)
    /// Most rows a query answer may have (exports stream and are not bounded).
    var maxRows = 1_000_000
    /// Longest query text accepted (in a URL or a body).
    var maxQueryBytes = 16 << 10
    /// The resolver the web pages ask for hop addresses' names; none: no names.
    var reverseDNS: ReverseNameCache.Server?
}
