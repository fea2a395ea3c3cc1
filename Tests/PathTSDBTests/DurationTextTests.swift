import Testing
import PathTSDB

/// The one duration grammar of the targets file, the language and the command line.
@Suite struct DurationTextTests {
    @Test func everyUnitAndCombinations() {
        #expect(DurationText.parseMicros("250ms") == 250_000)
        #expect(DurationText.parseMicros("90s") == 90_000_000)
        #expect(DurationText.parseMicros("5m") == 300_000_000)
        #expect(DurationText.parseMicros("1h30m") == 5_400_000_000)
        #expect(DurationText.parseMicros("2d") == 172_800_000_000)
        #expect(DurationText.parseMicros("1w2d") == 777_600_000_000)
        #expect(DurationText.parseMicros("1s500ms") == 1_500_000)
        #expect(DurationText.parseMicros("0s") == 0)
        for bad in ["", "ms", "5", "5x", "-5m", "1.5h", "5 m", "5M", "٣s", "5mss", "m5"] {
            #expect(DurationText.parseMicros(bad) == nil, "\(bad)")
            #expect(!DurationText.isTooLong(bad), "\(bad)")
        }
    }

    /// Text from outside cannot overflow: a duration past 1,000 years is refused as too long,
    /// whatever its digits, and a time that far from `now` is no time.
    @Test func extremesAreRefusedNotTrapped() {
        let most: Int64 = 52178 * 604_800_000_000
        #expect(DurationText.parseMicros("52178w") == most)
        for long in ["20000000w", "52180w", "999999999999999w", "9999999999999999999999s", "52179w", "365243d365243d", "1000000000000000ms"] {
            #expect(DurationText.parseMicros(long) == nil, "\(long)")
            #expect(DurationText.isTooLong(long), "\(long)")
        }
        #expect(DurationText.parseTime("now+52178w", now: Int64.max - 1) == nil)
        #expect(DurationText.parseTime("-52178w", now: Int64.min + 1) == nil)
        #expect(DurationText.parseTime("-1h", now: 7_200_000_000) == 3_600_000_000)
    }

    @Test func formatReadsBack() {
        for micros: Int64 in [250_000, 1_000_000, 90_000_000, 3_600_000_000, 604_800_000_000, 0] {
            #expect(DurationText.parseMicros(DurationText.format(micros: micros)) == micros)
        }
    }
}
