extension RunTable {
    /// Orders runs by start time (stable), keeping each run's probes.
    mutating func sortByStart() {
        var sorted = true
        for i in runs.indices.dropFirst() where runs[i].startMicros < runs[i - 1].startMicros {
            sorted = false
            break
        }
        guard !sorted else { return }
        let order = runs.indices.sorted { (runs[$0].startMicros, $0) < (runs[$1].startMicros, $1) }
        var out = RunTable()
        out.reserveCapacity(runs: runs.count, probes: probes.count)
        for i in order { out.append(runs[i], from: self) }
        self = out
    }
}
