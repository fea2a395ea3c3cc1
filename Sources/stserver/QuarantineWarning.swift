import PathTSDB

/// What an answer says when data is quarantined: the answer is missing that data, and an
/// operator should know which.
enum QuarantineWarning {
    /// One line naming how many files, their time span and targets; nil when none is.
    static func text(_ files: [QuarantinedFile]) -> String? {
        guard !files.isEmpty else { return nil }
        var s = "\(files.count) quarantined file\(files.count == 1 ? "" : "s") left out of this answer"
        let ranges = files.compactMap(\.timeRange)
        if let from = ranges.map(\.lowerBound).min(), let to = ranges.map(\.upperBound).max() {
            let targets = Set(files.flatMap(\.targets))
            s += ": runs from \(RFC3339.format(micros: from)) to \(RFC3339.format(micros: to)) of \(targets.count) target\(targets.count == 1 ? "" : "s")"
        }
        return s + " (stserver verify names them)"
    }
}
