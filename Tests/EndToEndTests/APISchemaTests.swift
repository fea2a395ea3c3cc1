import Alerting
import Foundation
import Testing

@testable import stserver

/// The API answers with the types generated from openapi.yaml: what the engine stores must
/// pass through them whole.
@Suite struct APISchemaTests {
    /// Evidence with every field the engine writes, as JSON.
    static let evidence = """
        {"kind": "path_changed", "old_path": [{"ttl": 1, "address": "10.0.0.1"}], "new_path": [{"ttl": 1, "address": "10.0.0.2|10.0.0.3"}],
         "diff": [{"ttl": 1, "old": "10.0.0.1", "new": "10.0.0.2|10.0.0.3", "change": "changed"}],
         "old_first_seen": "2026-12-07T10:00:00Z", "old_last_seen": "2026-12-07T10:05:00Z",
         "new_first_seen": "2026-12-07T10:06:00Z", "new_last_seen": "2026-12-07T10:09:00.5Z",
         "verdict": {"median_rtt_ms": {"before": 10.5, "after": 20.25, "verdict": "worse"}, "as_hops": {"verdict": "unknown (no AS data)"}},
         "first_hop": 3, "hops": [{"ttl": 1, "address": "10.0.0.1", "median_before_ms": 1.5, "median_now_ms": 2, "loss_now_percent": 0}],
         "runs_before": 20, "runs_now": 4, "new_addresses": ["10.0.0.3"]}
        """

    static func object(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    @Test func evidencePassesThroughTheGeneratedSchemaWhole() throws {
        let engine = try JSONDecoder().decode(AlertEvidence.self, from: Data(Self.evidence.utf8))
        let stored = try JSONEncoder().encode(engine)
        let answered = try JSONEncoder().encode(try JSONDecoder().decode(Schemas.Evidence.self, from: stored))
        #expect(try Self.object(answered) == Self.object(stored))
        // Every field of the sample is one the engine has: nothing above went unread.
        #expect(try Self.object(stored) == Self.object(Data(Self.evidence.utf8)))
    }

    @Test func timesAreRFC3339ToTheMicrosecond() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom(APIDate.encode)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom(APIDate.decode)
        for text in ["2026-12-07T10:00:00Z", "2026-12-07T10:00:00.000001Z", "2026-12-07T23:59:59.999999Z", "1970-01-01T00:00:00Z"] {
            let date = try decoder.decode([Date].self, from: Data("[\"\(text)\"]".utf8))
            #expect(String(decoding: try encoder.encode(date), as: UTF8.self) == "[\"\(text)\"]")
        }
        #expect(throws: DecodingError.self) { try decoder.decode([Date].self, from: Data("[\"tomorrow\"]".utf8)) }
    }
}
