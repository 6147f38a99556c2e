import Autodiff
import Foundation
import NeuralNetworks
import Testing

@Suite("GRU")
struct GRUTests {
  @Test func stepFollowsTheEquations() {
    var rng = SeededGenerator(seed: 1)
    let (n, f, h) = (2, 3, 4)
    let gru = GRU(inputSize: f, hiddenSize: h, dtype: .float64, using: &rng)
    let x = Tensor.normal([n, 1, f], dtype: .float64, using: &rng)
    let h0 = Tensor.normal([n, h], dtype: .float64, using: &rng)
    let next = gru.unrolled(Var(x), initialState: [Var(h0)]).final[0].value
    let (w, u) = (gru.inputWeight.value, gru.recurrentWeight.value)
    let (b, c) = (gru.inputBias.value, gru.recurrentBias.value)
    func input(_ k: Int, _ row: Int, _ j: Int) -> Double {
      (0..<f).reduce(b[k * h + j]) { $0 + x[row, 0, $1] * w[$1, k * h + j] }
    }
    func recurrent(_ k: Int, _ row: Int, _ j: Int) -> Double {
      (0..<h).reduce(c[k * h + j]) { $0 + h0[row, $1] * u[$1, k * h + j] }
    }
    func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
    for row in 0..<n {
      for j in 0..<h {
        let reset = sigmoid(input(0, row, j) + recurrent(0, row, j))
        let update = sigmoid(input(1, row, j) + recurrent(1, row, j))
        let candidate = Foundation.tanh(input(2, row, j) + reset * recurrent(2, row, j))
        let expected = (1 - update) * candidate + update * h0[row, j]
        #expect(abs(next[row, j] - expected) < 1e-12)
      }
    }
  }

  @Test func gradientCheckOfATinyInstance() {
    var rng = SeededGenerator(seed: 2)
    let gru = GRU(inputSize: 2, hiddenSize: 3, dtype: .float64, using: &rng)
    let x = Var(Tensor.normal([2, 3, 2], dtype: .float64, using: &rng))
    let result = GradientCheck.check(gru(x), withRespectTo: [x] + gru.parameters, name: "GRU")
    #expect(result.passed, "\(result)")
  }

  @Test func seededGRURemembersTheFirstBit() throws {
    var rng = SeededGenerator(seed: 4)
    let data = firstBitTask(count: 256, length: 12, using: &rng)
    let model = Sequential(
      GRU(inputSize: 1, hiddenSize: 8, using: &rng), LastStep(),
      Linear(inputSize: 8, outputSize: 2, using: &rng))
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.02),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy, seed: 4)
    trainer.showsProgress = false
    let history = try trainer.fit(data, epochs: 40, batchSize: 32)
    #expect(history.epochs.last!.trainingMetric! >= 0.98)
  }

  @Test func saveAndLoadRoundTrip() throws {
    var rng = SeededGenerator(seed: 5)
    let a = GRU(inputSize: 3, hiddenSize: 4, using: &rng)
    let b = GRU(inputSize: 3, hiddenSize: 4, using: &rng)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gru-\(UUID()).st")
    defer { try? FileManager.default.removeItem(at: url) }
    try a.save(to: url)
    try b.load(from: url)
    let x = Var(Tensor.normal([2, 5, 3], dtype: .float32, using: &rng))
    #expect(a(x).value == b(x).value)
  }
}
