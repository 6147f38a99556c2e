import Autodiff
import NeuralNetworks
import Testing

@Suite("Modules and layers")
struct ModuleTests {
  @Test func courseParameterCounts() {
    var rng = SeededGenerator(seed: 0)
    let mlp = MLP(sizes: [3, 4, 2], activation: .sigmoid, using: &rng)
    #expect(mlp.parameterCount == 26)
    #expect(
      mlp.description == """
        MLP(3 → 4 → 2): 26 parameters
          Linear(3 → 4): 16 parameters
          Sigmoid
          Linear(4 → 2): 10 parameters
        """)
    let mnist = MLP(sizes: [784, 256, 10], using: &rng)
    #expect(mnist.parameterCount == 784 * 256 + 256 + 256 * 10 + 10)
  }

  @Test func linearShapesAndInitialization() {
    var rng = SeededGenerator(seed: 1)
    let layer = Linear(inputSize: 400, outputSize: 300, using: &rng)
    #expect(layer.weight.shape == [400, 300])
    #expect(layer.bias!.value == Tensor.zeros([300], dtype: .float32))
    let w = layer.weight.value.scalars
    let variance = w.map { $0 * $0 }.reduce(0, +) / Double(w.count)
    #expect(abs(variance - 1.0 / 400) < 0.1 / 400)  // N(0, 1)/√in, as in the course
    let he = Initialization.he.weights(fanIn: 400, fanOut: 300, dtype: .float64, using: &rng)
      .scalars
    let heVariance: Double = he.map { $0 * $0 }.reduce(0, +) / Double(he.count)
    #expect(abs(heVariance - 2.0 / 400) < 0.2 / 400)
    let y = layer(Var(Tensor.zeros([7, 400], dtype: .float32)))
    #expect(y.shape == [7, 300])
  }

  /// Orthogonal initialization: the fewer of rows and columns are orthonormal, times the
  /// gain, for tall, wide and square shapes; xavier stays within its bound.
  @Test(arguments: [(5, 3), (3, 5), (6, 6)])
  func orthogonalAndXavierInitialization(rows: Int, columns: Int) {
    var rng = SeededGenerator(seed: 3)
    let gain = 1.5
    let w = Initialization.orthogonal(gain: gain).weights(
      fanIn: rows, fanOut: columns, dtype: .float64, using: &rng)
    #expect(w.shape == [rows, columns])
    let tall = rows >= columns
    for a in 0..<min(rows, columns) {
      for b in 0..<min(rows, columns) {
        var dot = 0.0
        for i in 0..<max(rows, columns) {
          dot += tall ? w[i, a] * w[i, b] : w[a, i] * w[b, i]
        }
        #expect(abs(dot - (a == b ? gain * gain : 0)) < 1e-12)
      }
    }
    let bound = (6 / Double(rows + columns)).squareRoot()
    let x = Initialization.xavier.weights(
      fanIn: rows, fanOut: columns, dtype: .float64, using: &rng)
    #expect(x.scalars.allSatisfy { abs($0) <= bound } && Set(x.scalars).count == rows * columns)
  }

  @Test func tinyMLPGradientCheck() {
    let check = GradientCheck("MLP 3-4-2", inputs: [.init([5, 3])]) { x in
      var rng = SeededGenerator(seed: 2)
      let mlp = MLP(sizes: [3, 4, 2], activation: .tanh, dtype: .float64, using: &rng)
      return mlp(x[0])
    }
    #expect(check.run().passed)
  }

  @Test func linearParametersGradientCheck() {
    let check = GradientCheck("Linear parameters", inputs: [.init([3, 2]), .init([2])]) { p in
      var rng = SeededGenerator(seed: 3)
      let x = Var.constant(Tensor.normal([4, 3], dtype: .float64, using: &rng))
      return Linear(weight: p[0], bias: p[1])(x).sigmoid()
    }
    #expect(check.run().passed)
  }

  @Test func tiedAutoencoderSharesOneWeight() {
    var rng = SeededGenerator(seed: 4)
    let model = Autoencoder(sizes: [8, 3], tiedWeights: true, dtype: .float64, using: &rng)
    // W (24) + encoder bias (3) + decoder bias (8).
    #expect(model.parameterCount == 35)
    let w = model.parameters[0]
    #expect(w.shape == [8, 3])
    // One W used as W in the encoder and Wᵀ in the decoder: both gradients land in W.
    let check = GradientCheck("tied weights", inputs: [.init([8, 3]), .init([2, 8], in: 0...1)]) {
      p in
      let encoder = Linear(weight: p[0], bias: nil)
      let decoder = TransposedLinear(tiedTo: p[0], dtype: .float64)
      return decoder(encoder(p[1]).sigmoid()).sigmoid()
    }
    #expect(check.run().passed)
  }

  @Test func trainingModePropagatesToChildren() {
    var rng = SeededGenerator(seed: 5)
    let mlp = MLP(sizes: [2, 3, 1], using: &rng)
    mlp.isTraining = false
    #expect(mlp.layers.allSatisfy { !$0.isTraining })
  }
}
