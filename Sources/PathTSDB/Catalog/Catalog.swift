/// The store's dictionaries: target and vantage names, addresses and paths, each mapped to a
/// dense id that never changes. A value type: readers hold a copy, the writer appends.
///
/// Ids are positions: the first entry of each kind is 1 (address 0 is "no reply").
public struct Catalog: Sendable {
    // Append-only lists and indexes, not arrays and dictionaries: every snapshot holds a copy,
    // and the writer's next new entry must not copy them whole (see `AppendOnlyList`).
    package private(set) var targetNames = AppendOnlyList<String>()
    package private(set) var vantageNames = AppendOnlyList<String>()
    package private(set) var addresses = AppendOnlyList<IPAddress>()
    package private(set) var paths = AppendOnlyList<PathHops>()
    private var targetIDs = AppendOnlyIndex<String, TargetID>()
    private var vantageIDs = AppendOnlyIndex<String, VantageID>()
    private var addressIDs = AppendOnlyIndex<IPAddress, AddressID>()
    private var pathIDs = AppendOnlyIndex<PathHops, PathID>()

    package init() {}

    // MARK: - Lookup

    /// The id of the target called `name`, if the store has seen it.
    public func targetID(named name: String) -> TargetID? { targetIDs[name] }
    /// The id of the vantage point called `name`, if the store has seen it.
    public func vantageID(named name: String) -> VantageID? { vantageIDs[name] }
    /// The id of `address`, if some probe's reply or some destination had it.
    public func addressID(of address: IPAddress) -> AddressID? { addressIDs[address] }
    /// The id of `path`, if some run took it.
    public func pathID(of path: PathHops) -> PathID? { pathIDs[path] }

    /// The name of the target `id`.
    public func name(of id: TargetID) -> String? { entry(targetNames, Int(id.rawValue)) }
    /// The name of the vantage point `id`.
    public func name(of id: VantageID) -> String? { entry(vantageNames, Int(id.rawValue)) }
    /// The address `id` stands for; nil for `AddressID.none` (no reply).
    public func address(of id: AddressID) -> IPAddress? { entry(addresses, Int(id.rawValue)) }
    /// The hops of the path `id`.
    public func path(of id: PathID) -> PathHops? { entry(paths, Int(id.rawValue)) }

    /// All targets, by id.
    public var targets: [(id: TargetID, name: String)] {
        targetNames.enumerated().map { (TargetID(rawValue: UInt32($0.offset + 1)), $0.element) }
    }

    /// The hop count of the path `id`, read in place: what summarising a run needs, without
    /// copying the path's arrays out of the list.
    package func hopCount(of id: PathID) -> Int? {
        let i = Int(id.rawValue)
        return i >= 1 && i <= paths.count ? paths[i - 1].hopCount : nil
    }

    private func entry<T>(_ list: AppendOnlyList<T>, _ id: Int) -> T? {
        id >= 1 && id <= list.count ? list[id - 1] : nil
    }

    // MARK: - Interning

    mutating func intern(target name: String) -> TargetID {
        if let id = targetIDs[name] { return id }
        targetNames.append(name)
        let id = TargetID(rawValue: UInt32(targetNames.count))
        targetIDs.insert(id, for: name)
        return id
    }

    mutating func intern(vantage name: String) -> VantageID {
        if let id = vantageIDs[name] { return id }
        vantageNames.append(name)
        let id = VantageID(rawValue: UInt32(vantageNames.count))
        vantageIDs.insert(id, for: name)
        return id
    }

    mutating func intern(address: IPAddress) -> AddressID {
        if let id = addressIDs[address] { return id }
        addresses.append(address)
        let id = AddressID(rawValue: UInt32(addresses.count))
        addressIDs.insert(id, for: address)
        return id
    }

    mutating func intern(path: PathHops) -> PathID {
        if let id = pathIDs[path] { return id }
        paths.append(path)
        let id = PathID(rawValue: UInt32(paths.count))
        pathIDs.insert(id, for: path)
        return id
    }

    /// Adds an entry read back from disk.
    mutating func load(_ entry: CatalogEntry) {
        switch entry {
        case .target(let n): _ = intern(target: n)
        case .vantage(let n): _ = intern(vantage: n)
        case .address(let a): _ = intern(address: a)
        case .path(let p): _ = intern(path: p)
        }
    }

    /// How many entries of each kind the catalog holds.
    var counts: CatalogCounts {
        CatalogCounts(targets: targetNames.count, vantages: vantageNames.count, addresses: addresses.count, paths: paths.count)
    }

    /// The entries beyond `counts`, kind by kind (ids are per kind, so the order across kinds
    /// does not matter).
    func entries(after counts: CatalogCounts) -> [CatalogEntry] {
        targetNames.dropFirst(counts.targets).map { .target($0) }
            + vantageNames.dropFirst(counts.vantages).map { .vantage($0) }
            + addresses.dropFirst(counts.addresses).map { .address($0) }
            + paths.dropFirst(counts.paths).map { .path($0) }
    }
}

/// Entry counts per kind: how much of a catalog is on disk.
struct CatalogCounts: Equatable, Sendable {
    var targets = 0, vantages = 0, addresses = 0, paths = 0
}

/// One catalog record as written to `catalog.ptc`.
enum CatalogEntry: Equatable, Sendable {
    case target(String)
    case vantage(String)
    case address(IPAddress)
    case path(PathHops)

    var kind: UInt8 {
        switch self {
        case .target: 1
        case .vantage: 2
        case .address: 3
        case .path(let p): p.branches.isEmpty ? 4 : 5
        }
    }

    func encode(into out: inout [UInt8]) {
        out.append(kind)
        switch self {
        case .target(let n), .vantage(let n):
            out.appendString(n)
        case .address(let a):
            if let v4 = a.v4Value {
                out.append(4)
                out.append(contentsOf: [UInt8(v4 >> 24), UInt8((v4 >> 16) & 255), UInt8((v4 >> 8) & 255), UInt8(v4 & 255)])
            } else {
                out.append(16)
                out.append(contentsOf: a.bytes)
            }
        case .path(let p):
            out.appendVarint(p.hops.count)
            for h in p.hops { out.appendVarint(h.rawValue) }
            if !p.branches.isEmpty {
                out.appendVarint(p.branches.count)
                for b in p.branches {
                    out.append(b.ttl)
                    out.appendVarint(b.address.rawValue)
                }
            }
        }
    }

    static func decode(_ c: inout ByteCursor) throws(StorageError) -> CatalogEntry {
        switch try c.readByte() {
        case 1: return .target(try c.readString())
        case 2: return .vantage(try c.readString())
        case 3:
            let n = Int(try c.readByte())
            guard n == 4 || n == 16, let a = IPAddress(bytes: try c.readBytes(n)) else {
                throw c.corruption("address record of length \(n)")
            }
            return .address(a)
        case let kind where kind == 4 || kind == 5:
            let n = try c.readVarintInt(max: 255)
            var hops = [AddressID]()
            hops.reserveCapacity(n)
            for _ in 0..<n { hops.append(AddressID(rawValue: UInt32(try c.readVarintInt(max: Int(UInt32.max))))) }
            guard kind == 5 else { return .path(PathHops(hops)) }
            // A load-balanced path: its other addresses per TTL, each at a TTL that answered
            // and in (TTL, address) order, so that one path has one encoding.
            let m = try c.readVarintInt(max: 255 * 1024)
            guard m > 0 else { throw c.corruption("load-balanced path without branches") }
            var branches = [PathBranch]()
            branches.reserveCapacity(m)
            for _ in 0..<m {
                let b = PathBranch(ttl: try c.readByte(), address: AddressID(rawValue: UInt32(try c.readVarintInt(max: Int(UInt32.max)))))
                guard b.ttl >= 1, Int(b.ttl) <= n, !hops[Int(b.ttl) - 1].isNone, !b.address.isNone,
                      b.address != hops[Int(b.ttl) - 1], branches.last.map({ $0 < b }) ?? true else {
                    throw c.corruption("branch \(branches.count) of a load-balanced path (TTL \(b.ttl), address \(b.address.rawValue)) out of place")
                }
                branches.append(b)
            }
            return .path(PathHops(hops, branches: branches))
        case let k:
            throw c.corruption("unknown catalog record kind \(k)")
        }
    }
}
