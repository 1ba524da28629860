import KordonEvents
import Testing

@testable import KordonSimulator

@Suite struct EventWriterTests {
    /// The writer formats decimals itself; it must print exactly what Swift's shortest round-trip form does.
    @Test func numbersMatchSwiftsShortestForm() {
        var rng = SplitMix64(seed: 5)
        var values: [Double] = [0.0001, 0.001, 0.1, 0.5, -0.25, 0.1 + 0.2, 1e-5, 123_456_789.5, 1e9 + 0.5, 1e15 + 0.5, .pi, -.pi]
        for _ in 0..<100_000 {
            let magnitude = [1.0, 10, 1000, 1e6, 1e8][rng.below(5)]
            let raw = (rng.unit() - 0.3) * magnitude
            let scale = [1.0, 10, 100, 1000, 10_000, 100_000][rng.below(6)]
            values.append((raw * scale).rounded() / scale)
            values.append(raw)
        }
        for value in values {
            var json = JSONBytes()
            json.number(value)
            let expected = value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : value.description
            #expect(String(decoding: json.bytes, as: UTF8.self) == expected)
        }
    }

    @Test func timesAreRFC3339InUTC() {
        for (ns, text) in [
            (Int64(0), "1970-01-01T00:00:00Z"), (1_796_083_200_000_000_000, "2026-12-01T00:00:00Z"),
            (1_796_083_261_500_000_000, "2026-12-01T00:01:01.5Z"), (-1, "1969-12-31T23:59:59.999999999Z"),
        ] {
            var line: [UInt8] = []
            EventWriter.appendTime(ns, to: &line)
            #expect(String(decoding: line, as: UTF8.self) == "\"\(text)\"")
        }
    }
}
