import Foundation

/// A fast, seedable pseudo-random number generator (xoshiro256**, seeded by SplitMix64).
///
/// The library never keeps a random generator of its own: every function that draws random
/// numbers takes one as `inout some RandomNumberGenerator`, so a seed reproduces a run.
///
/// ```swift
/// var rng = SeededGenerator(seed: 42)
/// let w = Tensor.normal([3, 4], using: &rng)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var words: (UInt64, UInt64, UInt64, UInt64)

  /// Creates a generator whose sequence is determined by `seed`.
  public init(seed: UInt64) {
    var s = seed
    func splitMix() -> UInt64 {
      s &+= 0x9E37_79B9_7F4A_7C15
      var z = s
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    words = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  /// The generator's state: `SeededGenerator(state: g.state)` continues exactly where `g`
  /// is, which is how a checkpoint resumes a random sequence.
  public var state: [UInt64] { [words.0, words.1, words.2, words.3] }

  /// A generator in a state read from ``state``.
  public init(state: [UInt64]) {
    require(
      state.count == 4 && state.contains { $0 != 0 },
      "SeededGenerator: a state is four words, not all zero; got \(state)")
    words = (state[0], state[1], state[2], state[3])
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = ((words.1 &* 5) << 7 | (words.1 &* 5) >> 57) &* 9
    let t = words.1 << 17
    words.2 ^= words.0
    words.3 ^= words.1
    words.1 ^= words.2
    words.0 ^= words.3
    words.2 ^= t
    words.3 = words.3 << 45 | words.3 >> 19
    return result
  }
}

extension RandomNumberGenerator {
  /// A sample of the standard normal distribution N(0, 1) (Box–Muller).
  ///
  /// Inlinable, as are the tensor samplers below, so that a caller's concrete generator
  /// is specialized in: through the generic protocol, each draw costs several hundred
  /// nanoseconds.
  @inlinable public mutating func nextNormal() -> Double {
    let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
    let u2 = Double.random(in: 0..<1, using: &self)
    return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
  }
}

extension Tensor {
  /// Samples of N(mean, standardDeviation²).
  @inlinable public static func normal(
    _ shape: [Int], mean: Double = 0, standardDeviation: Double = 1, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let n = shape.reduce(1, *)
    var values = [Double](repeating: 0, count: n)
    for i in 0..<n { values[i] = mean + standardDeviation * generator.nextNormal() }
    return Tensor(values, shape: shape, dtype: dtype)
  }

  /// Samples of the uniform distribution on `range`.
  @inlinable public static func uniform(
    _ shape: [Int], in range: ClosedRange<Double> = 0...1, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let n = shape.reduce(1, *)
    var values = [Double](repeating: 0, count: n)
    for i in 0..<n { values[i] = Double.random(in: range, using: &generator) }
    return Tensor(values, shape: shape, dtype: dtype)
  }

  /// Samples of the Bernoulli distribution: 1 with probability `probability`, else 0.
  @inlinable public static func bernoulli(
    _ shape: [Int], probability: Double, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let n = shape.reduce(1, *)
    var values = [Double](repeating: 0, count: n)
    for i in 0..<n { values[i] = Double.random(in: 0..<1, using: &generator) < probability ? 1 : 0 }
    return Tensor(values, shape: shape, dtype: dtype)
  }
}
