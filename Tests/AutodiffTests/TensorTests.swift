import Foundation
import Testing

@testable import Autodiff

@Suite("Tensor")
struct TensorTests {
  @Test func elementsAndShape() {
    var m = Tensor([[1, 2, 3], [4, 5, 6]])
    #expect(m.shape == [2, 3])
    #expect(m[1, 2] == 6)
    m[0, 1] = 9
    #expect(m.scalars == [1, 9, 3, 4, 5, 6])
    #expect(m.rowScalars == [[1, 9, 3], [4, 5, 6]])
    #expect(Tensor(scalar: 3).rank == 0)
    #expect(m.description == "[[1.0, 9.0, 3.0], [4.0, 5.0, 6.0]]")
  }

  /// Writing rows into a tensor gives what gathering them gives, reuses unshared storage of
  /// the right size, and leaves a tensor that shares the storage untouched.
  @Test func assignRowsMatchesGatheringRows() {
    var rng = SeededGenerator(seed: 8)
    let source = Tensor.normal([7, 2, 3], dtype: .float32, using: &rng)
    for rows in [[6, 0, 3], [2], [], [1, 1, 5, 4]] {
      var target = Tensor.zeros([3, 2, 3], dtype: .float32)
      let shared = target
      target.assign(rowsOf: source, at: rows)
      #expect(target == source.gatheringRows(rows))
      #expect(shared == Tensor.zeros([3, 2, 3], dtype: .float32))
      // An array slice, and a collection that is not contiguous.
      target.assign(rowsOf: source, at: rows[...])
      #expect(target == source.gatheringRows(rows))
      target.assign(rowsOf: source, at: rows.reversed().reversed())
      #expect(target == source.gatheringRows(rows))
    }
  }

  @Test func copyOnWrite() {
    let a = Tensor([1, 2, 3])
    var b = a
    b[flat: 0] = 10
    #expect(a[flat: 0] == 1)
    #expect(b[flat: 0] == 10)
  }

  /// The finiteness check finds a NaN or an infinity at any position of a short tensor
  /// (the check reads 32 elements at a time, then 16, then one by one).
  @Test(arguments: [DType.float32, .float64])
  func finitenessCheckSeesEveryPosition(dtype: DType) {
    for count in [1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 70] {
      let t = Tensor(repeating: 1.5, shape: [count], dtype: dtype)
      #expect(t.isFinite)
      for position in 0..<count {
        for bad in [Double.nan, .infinity, -.infinity] {
          var u = t
          u[flat: position] = bad
          #expect(!u.isFinite, "\(dtype) \(bad) at \(position) of \(count)")
        }
      }
    }
  }

  @Test func reshapeAndConvert() {
    let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: .float64)
    #expect(a.reshaped([3, 2])[2, 1] == 6)
    let f = a.converted(to: .float32)
    #expect(f.dtype == .float32)
    #expect(f.scalars(as: Float.self) == [1, 2, 3, 4, 5, 6])
  }

  @Test func broadcastShapes() {
    #expect(broadcastShape([5, 3], [3], op: "t") == [5, 3])
    #expect(broadcastShape([4, 1], [1, 3], op: "t") == [4, 3])
    #expect(broadcastShape([2, 1, 4], [3, 1], op: "t") == [2, 3, 4])
    #expect(broadcastShape([], [2, 2], op: "t") == [2, 2])
  }

  @Test func broadcastArithmeticAlongEveryAxis() {
    let a = Var(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3, 1]))
    let b = Var(Tensor([10, 20], shape: [1, 1, 2]))
    let y = (a + b).value
    #expect(y.shape == [2, 3, 2])
    #expect(y[1, 2, 1] == 26)
    #expect(y[0, 1, 0] == 12)
  }

  @Test func seededRandomIsReproducible() {
    var g1 = SeededGenerator(seed: 5)
    var g2 = SeededGenerator(seed: 5)
    #expect(Tensor.normal([10], using: &g1) == Tensor.normal([10], using: &g2))
    var g3 = SeededGenerator(seed: 6)
    let n = Tensor.normal([10_000], using: &g3).scalars
    let mean = n.reduce(0, +) / 10_000
    let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10_000
    #expect(abs(mean) < 0.05)
    #expect(abs(variance - 1) < 0.05)
    let coin = Tensor.bernoulli([10_000], probability: 0.3, using: &g3).scalars.reduce(0, +)
    #expect(abs(coin / 10_000 - 0.3) < 0.02)
  }

  /// xoshiro256** seeded by SplitMix64, written here from the published algorithms.
  struct ReferenceGenerator: RandomNumberGenerator {
    var s: [UInt64]
    init(seed: UInt64) {
      var x = seed
      s = (0..<4).map { _ in
        x = x &+ 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
      }
    }
    func rotl(_ v: UInt64, _ k: UInt64) -> UInt64 { (v << k) | (v >> (64 - k)) }
    mutating func next() -> UInt64 {
      let result = rotl(s[1] &* 5, 7) &* 9
      let t = s[1] << 17
      s[2] ^= s[0]
      s[3] ^= s[1]
      s[1] ^= s[2]
      s[0] ^= s[3]
      s[2] ^= t
      s[3] = rotl(s[3], 45)
      return result
    }
  }

  /// The generator is xoshiro256**, and the samplers (specialized for the caller's
  /// generator) draw from it in the documented way: Box–Muller from two uniforms per normal
  /// sample, one uniform per uniform or Bernoulli sample, in order. Drawn here one number
  /// at a time from the reference generator, they give the same numbers to the bit.
  @Test func samplersDrawTheDocumentedNumbers() {
    var generator = SeededGenerator(seed: 11)
    var reference = ReferenceGenerator(seed: 11)
    #expect((0..<1000).map { _ in generator.next() } == (0..<1000).map { _ in reference.next() })

    let normal = Tensor.normal(
      [257], mean: 2, standardDeviation: 3, dtype: .float64, using: &generator)
    let expectedNormal = (0..<257).map { _ in
      let u1 = Double.random(in: Double.ulpOfOne..<1, using: &reference)
      let u2 = Double.random(in: 0..<1, using: &reference)
      return 2 + 3 * ((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2))
    }
    #expect(normal.scalars == expectedNormal)
    let uniform = Tensor.uniform([257], in: -1...4, dtype: .float64, using: &generator)
    #expect(uniform.scalars == (0..<257).map { _ in Double.random(in: -1...4, using: &reference) })
    let coins = Tensor.bernoulli([257], probability: 0.4, dtype: .float64, using: &generator)
    #expect(
      coins.scalars
        == (0..<257).map { _ in Double.random(in: 0..<1, using: &reference) < 0.4 ? 1 : 0 })
    #expect(generator.next() == reference.next())

    // Any other generator takes the generic path, with the same draws.
    var other = ReferenceGenerator(seed: 11)
    _ = (0..<1000).map { _ in other.next() }
    #expect(
      Tensor.normal([257], mean: 2, standardDeviation: 3, dtype: .float64, using: &other) == normal)
    #expect(Tensor.uniform([257], in: -1...4, dtype: .float64, using: &other) == uniform)
    #expect(Tensor.bernoulli([257], probability: 0.4, dtype: .float64, using: &other) == coins)
    _ = other.next()
    #expect(other.next() == reference.next())
  }

  @Test func shapeMismatchStopsWithANamedMessage() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let a = Var(Tensor.zeros([32, 784]))
      let b = Var(Tensor.zeros([256, 10]))
      _ = a.matmul(b)
    }.map { result in
      let text = String(decoding: result.standardErrorContent, as: UTF8.self)
      #expect(text.contains("matmul: [32, 784] × [256, 10]: inner dimensions 784 and 256 differ"))
    }
  }
}

@Suite("Tensor arithmetic")
struct TensorArithmeticTests {
  @Test func broadcastingArithmeticMatchesTheOps() {
    let a = Tensor([[1, 2], [3, 4]], dtype: .float64)
    let b = Tensor([10, 20], dtype: .float64)
    #expect((a + b).rowScalars == [[11, 22], [13, 24]])
    #expect((a - b).rowScalars == [[-9, -18], [-7, -16]])
    #expect((a * b).rowScalars == [[10, 40], [30, 80]])
    #expect((b / a).rowScalars == [[10, 10], [10.0 / 3, 5]])
    #expect((-a).scalars == [-1, -2, -3, -4])
    #expect((2 * a + 1).scalars == [3, 5, 7, 9])
    #expect((1 - a / 2).scalars == [0.5, 0, -0.5, -1])
    #expect((12 / a).scalars == [12, 6, 4, 3])
    var c = a
    c += a
    c *= 0.5
    #expect(c == a)
    #expect(a.scalars == [1, 2, 3, 4])  // value semantics: a is untouched
  }

  @Test func dtypeFollowsTheOperands() {
    let f = Tensor([1, 2])
    let d = Tensor([1, 2], dtype: .float64)
    #expect((f + f).dtype == .float32)
    #expect((f + d).dtype == .float64)
    #expect((f * 2).dtype == .float32)
  }

  @Test func reductionsProductsAndConstructors() {
    let a = Tensor([[1, 2, 3], [4, 5, 6]], dtype: .float64)
    #expect(a.sum().scalar == 21)
    #expect(a.sum(along: 0).scalars == [5, 7, 9])
    #expect(a.mean(along: 1, keepingDimensions: true).shape == [2, 1])
    #expect(a.mean().scalar == 3.5)
    #expect(a.max(along: 1).scalars == [3, 6])
    #expect(a.transposed().shape == [3, 2])
    #expect(a.matmul(a, transposingOther: true).rowScalars == [[14, 32], [32, 77]])
    #expect(a.matmul(.eye(3, dtype: .float64)) == a)
    #expect(Tensor.eye(2).rowScalars == [[1, 0], [0, 1]])
    #expect(Tensor.concatenated([a, a], along: 0).shape == [4, 3])
    #expect(Tensor.concatenated([a, a], along: 1).rowScalars[1] == [4, 5, 6, 4, 5, 6])
    #expect(Tensor.stacked([a, a]).shape == [2, 2, 3])
    #expect(a.map { $0 * $0 }.scalars == [1, 4, 9, 16, 25, 36])
    #expect(a.map { $0 * $0 }.dtype == .float64)
  }
}
