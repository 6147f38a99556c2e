import Autodiff
import NeuralNetworks
import Testing

@Suite("Attention")
struct AttentionTests {
  @Test func weightedAverageOfTheValues() {
    let keys = Var.constant(Tensor([[1, 0], [0, 1]], dtype: .float64))
    let values = Var.constant(Tensor([[10, 0], [0, 10]], dtype: .float64))
    let query = Var.constant(Tensor([[4, 0], [0, 0]], dtype: .float64))
    let weights = attentionWeights(queries: query, keys: keys, scale: 1).value
    let e4 = 54.598150033144236  // e⁴
    #expect(abs(weights[0, 0] - e4 / (e4 + 1)) < 1e-15)
    #expect(weights.rowScalars[1] == [0.5, 0.5])
    let output = attention(queries: query, keys: keys, values: values, scale: 1).value
    #expect(output.shape == [2, 2])
    #expect(abs(output[0, 0] - 10 * e4 / (e4 + 1)) < 1e-13)
    #expect(abs(output[0, 1] - 10 / (e4 + 1)) < 1e-13)
    #expect(output.rowScalars[1] == [5, 5])
  }

  @Test func gradientCheck() {
    var rng = SeededGenerator(seed: 1)
    let q = Var(Tensor.normal([2, 3], dtype: .float64, using: &rng), name: "Q")
    let k = Var(Tensor.normal([4, 3], dtype: .float64, using: &rng), name: "K")
    let v = Var(Tensor.normal([4, 5], dtype: .float64, using: &rng), name: "V")
    let result = GradientCheck.check(
      attention(queries: q, keys: k, values: v, scale: 0.6), withRespectTo: [q, k, v],
      name: "attention")
    #expect(result.passed, "\(result)")
  }
}
