import Foundation

/// A fast, seedable pseudo-random number generator (xoshiro256**, seeded by SplitMix64).
///
/// The library never keeps a random generator of its own: every function that draws random
/// numbers takes one as an `inout` argument of any `RandomNumberGenerator` type, so a seed
/// reproduces a run.
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
  /// is specialized in (see `Tensor.samples`).
  @inlinable public mutating func nextNormal() -> Double {
    let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
    let u2 = Double.random(in: 0..<1, using: &self)
    return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
  }
}

extension Tensor {
  /// Samples of N(mean, standardDeviation²).
  @inlinable public static func normal<G: RandomNumberGenerator>(
    _ shape: [Int], mean: Double = 0, standardDeviation: Double = 1, dtype: DType = .default,
    using generator: inout G
  ) -> Tensor {
    let values = samples(
      .normal(mean: mean, standardDeviation: standardDeviation), count: shape.reduce(1, *),
      using: &generator)
    return Tensor(values, shape: shape, dtype: dtype)
  }

  /// Samples of the uniform distribution on `range`.
  @inlinable public static func uniform<G: RandomNumberGenerator>(
    _ shape: [Int], in range: ClosedRange<Double> = 0...1, dtype: DType = .default,
    using generator: inout G
  ) -> Tensor {
    Tensor(
      samples(.uniform(range), count: shape.reduce(1, *), using: &generator), shape: shape,
      dtype: dtype)
  }

  /// Samples of the Bernoulli distribution: 1 with probability `probability`, else 0.
  @inlinable public static func bernoulli<G: RandomNumberGenerator>(
    _ shape: [Int], probability: Double, dtype: DType = .default, using generator: inout G
  ) -> Tensor {
    let values = samples(.bernoulli(probability), count: shape.reduce(1, *), using: &generator)
    return Tensor(values, shape: shape, dtype: dtype)
  }

  /// What the samplers draw.
  @usableFromInline enum Distribution {
    case normal(mean: Double, standardDeviation: Double)
    case uniform(ClosedRange<Double>)
    case bernoulli(Double)
  }

  /// `count` samples of `distribution`, one after another.
  ///
  /// A caller whose generator type is known where it calls a sampler gets a copy of the
  /// sampler specialized for it. Code that is generic over its generator (a layer's
  /// initializer in another module, say) does not, and there each draw through the
  /// protocol costs several hundred nanoseconds; a ``SeededGenerator`` is therefore
  /// recognized at run time and drawn from by code compiled for it. The numbers are the
  /// same either way.
  @inlinable static func samples<G: RandomNumberGenerator>(
    _ distribution: Distribution, count: Int, using generator: inout G
  ) -> [Double] {
    if G.self == SeededGenerator.self {
      return withUnsafeMutablePointer(to: &generator) { pointer in
        pointer.withMemoryRebound(to: SeededGenerator.self, capacity: 1) {
          seededSamples(distribution, count: count, using: &$0.pointee)
        }
      }
    }
    return draws(distribution, count: count, using: &generator)
  }

  @usableFromInline static func seededSamples(
    _ distribution: Distribution, count: Int, using generator: inout SeededGenerator
  ) -> [Double] {
    draws(distribution, count: count, using: &generator)
  }

  @inlinable static func draws<G: RandomNumberGenerator>(
    _ distribution: Distribution, count: Int, using generator: inout G
  ) -> [Double] {
    var values = [Double](repeating: 0, count: count)
    switch distribution {
    case .normal(let mean, let standardDeviation):
      for i in 0..<count { values[i] = mean + standardDeviation * generator.nextNormal() }
    case .uniform(let range):
      for i in 0..<count { values[i] = Double.random(in: range, using: &generator) }
    case .bernoulli(let probability):
      for i in 0..<count {
        values[i] = Double.random(in: 0..<1, using: &generator) < probability ? 1 : 0
      }
    }
    return values
  }
}
