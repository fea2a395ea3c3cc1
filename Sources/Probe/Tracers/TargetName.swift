import PathTSDB

/// A destination as tracers get it: an IP address, or a host name of letters, digits, `-` and
/// `.` that does not start with `-`. Tracers are started with an argument vector, never through
/// a shell, and this check also keeps a name from being read as one of their options.
package struct TargetName: Sendable, Hashable, CustomStringConvertible {
    package let text: String

    package init(_ text: String) throws(ProbeError) {
        if IPAddress(text) != nil {
            self.text = text
            return
        }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !text.isEmpty && text.count <= 253 && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        guard valid else {
            throw ProbeError(.unsupportedInput, "\"\(text)\" is neither an IP address nor a host name (letters, digits, '-' and '.')")
        }
        self.text = text
    }

    package var description: String { text }
}
