import Foundation

/// Seeded PRNG: SplitMix64 is tiny, fast and passes BigCrush, and being ours (not the stdlib's)
/// its output cannot change between toolchains, so a seed reproduces a stream byte for byte.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 53 bits.
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in 0..<bound by multiply-shift (Lemire); the tiny bias is irrelevant for traffic.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int((UInt128(next()) &* UInt128(UInt64(bound))) >> 64)
    }

    public mutating func chance(_ p: Double) -> Bool {
        unit() < p
    }

    public mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }

    /// Exponential inter-arrival time with the given mean.
    public mutating func exponential(mean: Double) -> Double {
        // 1 - u lies in (0, 1]: never log(0).
        -mean * log(1 - unit())
    }
}
