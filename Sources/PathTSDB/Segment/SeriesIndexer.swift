/// Numbers the RTT series of a chunk in order of first appearance: a series is a TTL and the
/// address the run's path has at that TTL. Encoder and decoder build the same numbering from
/// the same runs, so the numbering itself is never stored.
struct SeriesIndexer {
    private var byKey: [UInt64: Int32] = [:]
    private var byPath: [PathID: [Int32]] = [:]
    private(set) var count: Int32 = 0

    /// The series of each TTL (index `ttl - 1`) on `path`, up to `maxTTL`.
    mutating func series(for path: PathID, maxTTL: Int, catalog: Catalog) throws(StorageError) -> [Int32] {
        if let known = byPath[path], known.count >= maxTTL { return known }
        guard let hops = catalog.path(of: path) else {
            throw StorageError(.corruption, "chunk refers to path \(path.rawValue), which the catalog does not hold")
        }
        var table = [Int32]()
        table.reserveCapacity(maxTTL)
        for ttl in 1...max(maxTTL, 1) {
            let key = UInt64(ttl) << 32 | UInt64(hops.address(atTTL: ttl).rawValue)
            if let s = byKey[key] {
                table.append(s)
            } else {
                byKey[key] = count
                table.append(count)
                count += 1
            }
        }
        byPath[path] = table
        return table
    }
}
