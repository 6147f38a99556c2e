import Autodiff
import Testing

@Suite("Fused layer normalization")
struct LayerNormalizationTests {
  /// The fused op and its composition agree in value and in every gradient, in Double and
  /// Float, on one thread and split over two (each part sums its own ∂γ and ∂β).
  @Test(arguments: [DType.float64, .float32], [1, 2])
  func fusedMatchesItsComposition(dtype: DType, threads: Int) {
    var rng = SeededGenerator(seed: 11)
    let x = Var(Tensor.normal([3, 7, 16], standardDeviation: 3, dtype: dtype, using: &rng))
    let gamma = Var(Tensor.normal([16], dtype: dtype, using: &rng))
    let beta = Var(Tensor.normal([16], dtype: dtype, using: &rng))
    let weights = Var.constant(Tensor.normal([3, 7, 16], dtype: dtype, using: &rng))
    func run(_ fused: Bool) -> [Tensor] {
      for v in [x, gamma, beta] { v.grad = nil }
      let y = ComputeSettings.withThreads(threads, minimumWork: 0) { () -> Var in
        let y =
          fused
          ? x.layerNormalized(gamma: gamma, beta: beta)
          : {
            let centered = x - x.mean(along: -1, keepingDimensions: true)
            let variance = centered.squared().mean(along: -1, keepingDimensions: true)
            return gamma * centered / (variance + 1e-5).sqrt() + beta
          }()
        (y * weights).sum().backward()
        return y
      }
      return [y.value, x.grad!, gamma.grad!, beta.grad!]
    }
    let (fused, composed) = (run(true), run(false))
    let tolerance = dtype == .float32 ? 1e-4 : 1e-12
    for (a, b) in zip(fused, composed) {
      #expect(a.shape == b.shape)
      let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
      #expect(worst < tolerance, "\(dtype), \(threads) threads: error \(worst)")
    }
  }

  /// Every row comes out with mean β and standard deviation |γ| (up to ε).
  @Test func rowsAreNormalized() {
    var rng = SeededGenerator(seed: 12)
    let x = Var(
      Tensor.normal([5, 32], mean: 4, standardDeviation: 10, dtype: .float64, using: &rng))
    let ones = Var(Tensor.ones([32], dtype: .float64))
    let zeros = Var(Tensor.zeros([32], dtype: .float64))
    let y = x.layerNormalized(gamma: ones, beta: zeros, epsilon: 0).value
    for row in 0..<5 {
      let values = (0..<32).map { y[row, $0] }
      let mean = values.reduce(0, +) / 32
      let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 32
      #expect(abs(mean) < 1e-12)
      #expect(abs(variance - 1) < 1e-12)
    }
  }
}
