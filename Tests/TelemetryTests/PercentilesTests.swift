import Telemetry
import Testing

@Suite struct PercentilesTests {
    @Test func nearestRankOnHandCases() {
        let hundred = Percentiles((1...100).map(Double.init).shuffled())
        #expect(hundred.count == 100)
        #expect((hundred.value(at: 50), hundred.value(at: 95), hundred.value(at: 99), hundred.value(at: 100)) == (50, 95, 99, 100))
        #expect(hundred.value(at: 0) == 1)
        // Four samples: p50 is the 2nd (ceil(0.5 * 4) = 2), p99 the 4th; always a measured value.
        let four = Percentiles([40, 10, 30, 20])
        #expect((four.median, four.value(at: 75), four.value(at: 76), four.value(at: 99)) == (20, 30, 40, 40))
        #expect(Percentiles([7.5]).value(at: 99) == 7.5)
    }

    @Test func emptyAndNaNSamples() {
        #expect(Percentiles([Double]()).median == 0)
        let withNaN = Percentiles([.nan, 3, 1, 2])
        #expect(withNaN.count == 3 && withNaN.median == 2)
    }
}
