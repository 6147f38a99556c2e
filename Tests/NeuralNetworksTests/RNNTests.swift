import Autodiff
import Foundation
import NeuralNetworks
import Testing

@Suite("RNN")
struct RNNTests {
  @Test func gradientCheckOfAThreeStepInstance() {
    var rng = SeededGenerator(seed: 1)
    let rnn = RNN(inputSize: 2, hiddenSize: 3, activation: .sigmoid, dtype: .float64, using: &rng)
    let x = Var(Tensor.normal([2, 3, 2], dtype: .float64, using: &rng))
    let h0 = Var(Tensor.normal([2, 3], dtype: .float64, using: &rng))
    let outputs = rnn.unrolled(x, initialState: [h0]).outputs
    let result = GradientCheck.check(
      Var.stack(outputs, along: 1), withRespectTo: [x, h0] + rnn.parameters, name: "RNN")
    #expect(result.passed, "\(result)")
  }

  /// The course's network sⁱ = xⁱU + hⁱ⁻¹W + b, hⁱ = σ(sⁱ), zⁱ = hⁱV + c, yⁱ = σ(zⁱ),
  /// E = Σᵢ ½‖yⁱ − tⁱ‖²: backward() gives ∂E/∂hⁱ on every step's node, which must equal the
  /// course's recursion from the last step back,
  /// ∇hⁱE = (∇yⁱL ⊙ σ′(zⁱ)) Vᵀ + (∇hⁱ⁺¹E ⊙ σ′(sⁱ⁺¹)) Wᵀ.
  @Test func backpropagationThroughTimeMatchesTheCourseRecursion() {
    var rng = SeededGenerator(seed: 2)
    let (steps, inputs, hidden, outputs) = (4, 2, 3, 2)
    let rnn = RNN(
      inputSize: inputs, hiddenSize: hidden, activation: .sigmoid, dtype: .float64, using: &rng)
    let readout = Linear(inputSize: hidden, outputSize: outputs, dtype: .float64, using: &rng)
    let x = Tensor.normal([1, steps, inputs], dtype: .float64, using: &rng)
    let t = Tensor.uniform([steps, outputs], dtype: .float64, using: &rng)
    let hs = rnn.unrolled(Var(x)).outputs
    var error: Var?
    var ys: [Tensor] = []
    for i in 0..<steps {
      let y = readout(hs[i]).sigmoid()
      ys.append(y.value)
      let term = (y - Var.constant(t.rows(i..<(i + 1)))).squared().sum() * 0.5
      error = error.map { $0 + term } ?? term
    }
    error!.backward()

    let (w, v) = (rnn.recurrentWeight.value, readout.weight.value)
    let h = hs.map(\.value)
    var next = [Double](repeating: 0, count: hidden)  // (∇hⁱ⁺¹E ⊙ σ′(sⁱ⁺¹))
    for i in stride(from: steps - 1, through: 0, by: -1) {
      var gradient = [Double](repeating: 0, count: hidden)
      for j in 0..<hidden {
        for k in 0..<outputs {
          let y = ys[i][0, k]
          gradient[j] += (y - t[i, k]) * y * (1 - y) * v[j, k]
        }
        for k in 0..<hidden { gradient[j] += next[k] * w[j, k] }
      }
      for j in 0..<hidden {
        #expect(abs(hs[i].grad![0, j] - gradient[j]) < 1e-12, "step \(i), unit \(j)")
      }
      next = (0..<hidden).map { gradient[$0] * h[i][0, $0] * (1 - h[i][0, $0]) }
    }
  }

  /// With tanh units near zero the network is nearly linear, and ∂E/∂hᵗ scales like ρᵀ⁻ᵗ
  /// for a recurrent matrix whose singular values all equal ρ.
  @Test(arguments: [0.5, 1.5])
  func gradientNormsShrinkOrGrowWithTheSpectralRadius(_ radius: Double) {
    let norms = recurrentGradientNorms(radius: radius, steps: 14, seed: 3)
    let ratio = norms[0] / norms[norms.count - 1]
    if radius < 1 {
      #expect(ratio < 1e-3)
    } else {
      #expect(ratio > 1e2)
    }
  }

  /// The course's sequence task: 0, 2, 4, 6 → 8, learned from other arithmetic sequences.
  @Test func seededRNNContinuesArithmeticSequences() throws {
    var rng = SeededGenerator(seed: 5)
    var inputs = Tensor.zeros([200, 4, 1], dtype: .float32)
    var targets = Tensor.zeros([200, 1], dtype: .float32)
    for i in 0..<200 {
      let (start, step) = (
        Double.random(in: -1...1, using: &rng), Double.random(in: -1...1, using: &rng)
      )
      for t in 0..<4 { inputs[i, t, 0] = (start + Double(t) * step) / 8 }
      targets[i, 0] = (start + 4 * step) / 8
    }
    let model = Sequential(
      RNN(inputSize: 1, hiddenSize: 8, using: &rng), LastStep(),
      Linear(inputSize: 8, outputSize: 1, using: &rng))
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.01),
      loss: { meanSquaredError(predicted: $0, target: $1) }, seed: 5)
    trainer.showsProgress = false
    try trainer.fit(Dataset(inputs: inputs, targets: targets), epochs: 150, batchSize: 20)
    let probe = Tensor([0, 2, 4, 6].map { $0 / 8 }, shape: [1, 4, 1]).converted(to: .float32)
    let next = trainer.predict(probe).scalar * 8
    #expect(abs(next - 8) < 0.5, "predicted \(next)")
  }

  @Test func saveAndLoadRoundTrip() throws {
    var rng = SeededGenerator(seed: 6)
    let a = RNN(inputSize: 3, hiddenSize: 4, using: &rng)
    let b = RNN(inputSize: 3, hiddenSize: 4, using: &rng)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnn-\(UUID()).st")
    defer { try? FileManager.default.removeItem(at: url) }
    try a.save(to: url)
    try b.load(from: url)
    let x = Var(Tensor.normal([2, 5, 3], dtype: .float32, using: &rng))
    #expect(a(x).value == b(x).value)
  }
}

/// ‖∂E/∂hᵗ‖ for t = 1…steps, for a tanh RNN with recurrent matrix ρ·Q (Q orthogonal), small
/// inputs and E the sum of the last state.
func recurrentGradientNorms(radius: Double, steps: Int, seed: UInt64) -> [Double] {
  var rng = SeededGenerator(seed: seed)
  let hidden = 8
  let w = Initialization.orthogonal(gain: radius).weights(
    fanIn: hidden, fanOut: hidden, dtype: .float64, using: &rng)
  let rnn = RNN(
    inputWeight: Var(
      Tensor.normal([1, hidden], standardDeviation: 0.01, dtype: .float64, using: &rng)),
    recurrentWeight: Var(w),
    bias: Var(Tensor.zeros([hidden], dtype: .float64)))
  let x = Var(Tensor.normal([1, steps, 1], standardDeviation: 0.01, dtype: .float64, using: &rng))
  let hs = rnn.unrolled(x).outputs
  hs[steps - 1].sum().backward()
  return hs.map { h in h.grad!.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
