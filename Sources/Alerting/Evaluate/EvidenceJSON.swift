import Foundation

/// Evidence as the JSON text stored with transitions and sent in notifications.
enum EvidenceJSON {
    static func encode(_ e: AlertEvidence) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A figure that is not a number (none on one side) is written as a string, never dropped.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? encoder.encode(e) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
