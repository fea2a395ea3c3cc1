import Testing
@testable import Query
import PathTSDB

@Suite struct OutputTests {
    let table = ResultTable(columns: ["time", "target", "hop", "p50_ms"], rows: [
        [.time(1_795_284_000_000_000), .text("a,b"), .integer(3), .number(12.5)],
        [.time(1_795_287_600_000_123), .text("say \"hi\"\n"), .integer(12), .null],
    ])

    @Test func tableAlignsNumbersRight() {
        #expect(TableRenderer.render(table) == """
            time                         target      hop  p50_ms
            ---------------------------  ----------  ---  ------
            2026-11-21T18:00:00Z         a,b           3    12.5
            2026-11-21T19:00:00.000123Z  say "hi"\\n   12

            """)
    }

    @Test func csvQuotesWhatNeedsQuoting() {
        #expect(CSVRenderer.render(table) ==
            "time,target,hop,p50_ms\r\n2026-11-21T18:00:00Z,\"a,b\",3,12.5\r\n2026-11-21T19:00:00.000123Z,\"say \"\"hi\"\"\n\",12,\r\n")
    }

    @Test func jsonEscapesAndUsesNull() {
        #expect(JSONRenderer.render(table) == """
            [
              {"time": "2026-11-21T18:00:00Z", "target": "a,b", "hop": 3, "p50_ms": 12.5},
              {"time": "2026-11-21T19:00:00.000123Z", "target": "say \\"hi\\"\\n", "hop": 12, "p50_ms": null}
            ]

            """)
        #expect(JSONRenderer.render(ResultTable(columns: ["x"])) == "[]\n")
    }

    @Test(arguments: [
        ("2026-11-21T18:00:00Z", Int64(1_795_284_000_000_000)),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.5Z", -500_000),
        ("2024-02-29T12:00:00+02:00", 1_709_200_800_000_000),
        ("2000-03-01 00:00:00z", 951_868_800_000_000),
    ])
    func rfc3339RoundTrips(_ text: String, _ micros: Int64) {
        #expect(RFC3339.parse(text) == micros)
        #expect(RFC3339.parse(RFC3339.format(micros: micros)) == micros)
    }

    @Test(arguments: ["", "2026-11-21", "2026-13-01T00:00:00Z", "2026-11-21T25:00:00Z", "2026-11-21T18:00:00", "2026-11-21T18:00:00Zjunk", "2026-11-21T18:00:00.Z"])
    func malformedTimesAreRejected(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func durationsAndRelativeTimes() {
        #expect(DurationText.parseMicros("90s") == 90_000_000)
        #expect(DurationText.parseMicros("1h30m") == 5_400_000_000)
        #expect(DurationText.parseMicros("2w") == 1_209_600_000_000)
        for bad in ["", "h", "5", "5x", "-5m", "1.5h"] { #expect(DurationText.parseMicros(bad) == nil, "\(bad)") }
        let dayBefore: Int64? = DurationText.parseTime("-24h", now: 100_000_000_000)
        #expect(dayBefore == Int64(13_600_000_000))
        #expect(DurationText.parseTime("now+1m", now: 0) == 60_000_000)
        #expect(DurationText.parseTime("now", now: 42) == 42)
        #expect(DurationText.parseTime("yesterday", now: 42) == nil)
    }

    @Test func numbersKeepMicrosecondsAndDropTrailingZeros() {
        #expect(ResultValue.number(26.116).text == "26.116")
        #expect(ResultValue.number(100).text == "100")
        #expect(ResultValue.number(0.0005).text == "0.001")
        #expect(ResultValue.number(-1.25).text == "-1.25")
    }
}
