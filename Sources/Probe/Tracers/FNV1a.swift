/// FNV-1a, 32 bits: the stable hash a pinned flow id is made from (a target keeps its flow from
/// run to run and across restarts, which Swift's seeded `Hasher` would not give).
enum FNV1a {
    static func hash(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }
}
