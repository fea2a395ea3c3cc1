import PathTSDB

/// Which probes a query's hop selectors keep. A probe belongs to the hop at its TTL in its run;
/// that hop's address is the first address that answered at that TTL in that run, so that a
/// lost probe at hop `10.0.0.1` counts as loss of `10.0.0.1`.
struct HopMatcher {
    private var ttlAllowed = [Bool](repeating: false, count: 256)
    private let prefixes: [IPPrefix]
    let selectsAll: Bool
    /// Whether the hop addresses of each run are needed (prefix selectors or grouping by address).
    let needsHopAddresses: Bool
    /// Per address id: whether a prefix holds it (nil until first asked).
    private var prefixMatch: [Bool?] = []
    private let catalog: Catalog

    init(_ selectors: [HopSelector], catalog: Catalog, groupsByAddress: Bool) {
        var prefixes = [IPPrefix]()
        for s in selectors {
            switch s {
            case .ttl(let r):
                for t in r where t < 256 { ttlAllowed[t] = true }
            case .address(let p):
                prefixes.append(p)
            }
        }
        self.prefixes = prefixes
        self.catalog = catalog
        selectsAll = selectors.isEmpty
        needsHopAddresses = !prefixes.isEmpty || groupsByAddress
        prefixMatch = prefixes.isEmpty ? [] : [Bool?](repeating: nil, count: catalog.addresses.count + 1)
    }

    /// The hop address per TTL of one run's probes (`.none` where no probe answered).
    static func hopAddresses(_ probes: ArraySlice<ProbeRecord>, into out: inout [AddressID]) {
        for i in 0..<256 { out[i] = .none }
        for p in probes where !p.isLoss && out[Int(p.ttl)].isNone { out[Int(p.ttl)] = p.address }
    }

    /// Whether the probe at `ttl` whose hop address is `hop` is kept.
    @inline(__always)
    mutating func keeps(ttl: UInt8, hop: AddressID) -> Bool {
        if selectsAll || ttlAllowed[Int(ttl)] { return true }
        guard !prefixes.isEmpty, !hop.isNone else { return false }
        let i = Int(hop.rawValue)
        guard i < prefixMatch.count else { return false }
        if let known = prefixMatch[i] { return known }
        let m = catalog.address(of: hop).map { a in prefixes.contains { $0.contains(a) } } ?? false
        prefixMatch[i] = m
        return m
    }
}
