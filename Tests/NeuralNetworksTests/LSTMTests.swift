import Autodiff
import Foundation
import NeuralNetworks
import Testing

@Suite("LSTM")
struct LSTMTests {
  @Test func shapesParameterCountAndForgetBias() {
    var rng = SeededGenerator(seed: 0)
    let lstm = LSTM(inputSize: 8, hiddenSize: 32, using: &rng)
    #expect(lstm.parameterCount == 8 * 128 + 32 * 128 + 128)
    #expect(lstm.bias.value.scalars[0..<32].allSatisfy { $0 == 1 })
    #expect(lstm.bias.value.scalars[32...].allSatisfy { $0 == 0 })
    let x = Var(Tensor.normal([5, 7, 8], dtype: .float32, using: &rng))
    #expect(lstm(x).shape == [5, 7, 32])
    let model = Sequential(lstm, LastStep(), Linear(inputSize: 32, outputSize: 10, using: &rng))
    #expect(model(x).shape == [5, 10])
    #expect(model.parameterCount == 5578)
  }

  /// One step against the course's equations with the concatenation [h x] and the stacked W.
  @Test func stepFollowsTheCourseEquations() {
    var rng = SeededGenerator(seed: 1)
    let (n, f, h) = (2, 3, 4)
    let lstm = LSTM(inputSize: f, hiddenSize: h, dtype: .float64, using: &rng)
    lstm.bias.updateValue { $0 = Tensor.normal([4 * h], dtype: .float64, using: &rng) }
    let x = Tensor.normal([n, 1, f], dtype: .float64, using: &rng)
    let h0 = Tensor.normal([n, h], dtype: .float64, using: &rng)
    let c0 = Tensor.normal([n, h], dtype: .float64, using: &rng)
    let (_, final) = lstm.unrolled(Var(x), initialState: [Var(h0), Var(c0)])

    let w = Var.concatenate([lstm.recurrentWeight, lstm.inputWeight], along: 0).value
    func gate(_ k: Int, _ row: Int, _ j: Int) -> Double {
      var total = lstm.bias.value[k * h + j]
      for i in 0..<h { total += h0[row, i] * w[i, k * h + j] }
      for i in 0..<f { total += x[row, 0, i] * w[h + i, k * h + j] }
      return total
    }
    func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
    for row in 0..<n {
      for j in 0..<h {
        let forget = sigmoid(gate(0, row, j))
        let input = sigmoid(gate(1, row, j))
        let candidate = Foundation.tanh(gate(2, row, j))
        let output = sigmoid(gate(3, row, j))
        let c = forget * c0[row, j] + input * candidate
        #expect(abs(final[1].value[row, j] - c) < 1e-12)
        #expect(abs(final[0].value[row, j] - output * Foundation.tanh(c)) < 1e-12)
      }
    }
  }

  /// The layer runs the fused sequence op; unrolling builds the cell ops step by step.
  @Test func fusedSequenceEqualsTheUnrolledSteps() {
    var rng = SeededGenerator(seed: 6)
    let lstm = LSTM(inputSize: 3, hiddenSize: 5, dtype: .float64, using: &rng)
    let x = Var(Tensor.normal([4, 6, 3], dtype: .float64, using: &rng))
    let fused = lstm(x)
    let unrolled = Var.stack(lstm.unrolled(x).outputs, along: 1)
    #expect(maxDifference(fused.value, unrolled.value) < 1e-12)
    let weights = Var.constant(Tensor.normal(fused.shape, dtype: .float64, using: &rng))
    let a = gradients(of: (fused * weights).sum(), withRespectTo: [x] + lstm.parameters)
    let b = gradients(of: (unrolled * weights).sum(), withRespectTo: [x] + lstm.parameters)
    for (ga, gb) in zip(a, b) { #expect(maxDifference(ga.value, gb.value) < 1e-12) }
    (fused * weights).sum().backward()
    let fast = [x.grad!] + lstm.parameters.map { $0.grad! }
    for (g, gb) in zip(fast, b) { #expect(maxDifference(g, gb.value) < 1e-12) }
  }

  /// Each thread runs the recurrence for its own rows of the batch.
  @Test func fusedSequenceSplitsTheBatchOverThreads() {
    var rng = SeededGenerator(seed: 7)
    let lstm = LSTM(inputSize: 3, hiddenSize: 4, dtype: .float64, using: &rng)
    // 26 sequences: ranges of 18 and 8 rows on two threads (Kernels.batchChunk).
    let x = Var(Tensor.normal([26, 6, 3], dtype: .float64, using: &rng))
    let weights = Var.constant(Tensor.normal([26, 6, 4], dtype: .float64, using: &rng))
    func run(threads: Int) -> [Tensor] {
      ComputeSettings.withThreads(threads, minimumWork: 0) {
        let loss = (lstm(x) * weights).sum()
        return [loss.value] + gradients(of: loss, withRespectTo: [x] + lstm.parameters).map(\.value)
      }
    }
    let (one, two) = (run(threads: 1), run(threads: 2))
    for (a, b) in zip(one, two) { #expect(maxDifference(a, b) < 1e-12) }
    let fast = ComputeSettings.withThreads(2, minimumWork: 0) { () -> [Tensor] in
      (lstm(x) * weights).sum().backward()
      return [x.grad!] + lstm.parameters.map { $0.grad! }
    }
    for (a, b) in zip(one.dropFirst(), fast) { #expect(maxDifference(a, b) < 1e-12) }
  }

  @Test func gradientCheckOfATinyInstance() {
    var rng = SeededGenerator(seed: 2)
    let lstm = LSTM(inputSize: 2, hiddenSize: 3, dtype: .float64, using: &rng)
    let x = Var(Tensor.normal([2, 3, 2], dtype: .float64, using: &rng))
    let result = GradientCheck.check(lstm(x), withRespectTo: [x] + lstm.parameters, name: "LSTM")
    #expect(result.passed, "\(result)")
  }

  @Test func stackedLayersAndSequenceToSequence() {
    var rng = SeededGenerator(seed: 3)
    let model = Sequential(
      LSTM(inputSize: 2, hiddenSize: 3, dtype: .float64, using: &rng),
      LSTM(inputSize: 3, hiddenSize: 2, dtype: .float64, using: &rng),
      Linear(inputSize: 2, outputSize: 4, dtype: .float64, using: &rng))
    let x = Var(Tensor.normal([2, 3, 2], dtype: .float64, using: &rng))
    let y = model(x)
    #expect(y.shape == [2, 3, 4])
    let result = GradientCheck.check(y, withRespectTo: [x] + model.parameters, name: "stack")
    #expect(result.passed, "\(result)")
  }

  /// Remembering the first of 12 random bits is beyond a linear readout of the last input;
  /// the LSTM learns it.
  @Test func seededLSTMRemembersTheFirstBit() throws {
    var rng = SeededGenerator(seed: 4)
    let data = firstBitTask(count: 256, length: 12, using: &rng)
    let model = Sequential(
      LSTM(inputSize: 1, hiddenSize: 8, using: &rng), LastStep(),
      Linear(inputSize: 8, outputSize: 2, using: &rng))
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.02),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy, seed: 4)
    trainer.showsProgress = false
    let history = try trainer.fit(data, epochs: 40, batchSize: 32)
    #expect(history.epochs.last!.trainingMetric! >= 0.98)
  }

  /// The unrolled graph is built for one batch size and length: evaluating it with another
  /// input shape stops with a message naming the layer.
  @Test func aBuiltGraphRefusesAnotherSequenceShape() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var rng = SeededGenerator(seed: 8)
      let lstm = LSTM(inputSize: 3, hiddenSize: 4, using: &rng)
      let x = Var(Tensor.zeros([2, 5, 3], dtype: .float32))
      let y = lstm(x).sum()
      x.set(Tensor.zeros([2, 7, 3], dtype: .float32))
      y.evaluate()
    }.map { result in
      let text = String(decoding: result.standardErrorContent, as: UTF8.self)
      #expect(
        text.contains(
          "LSTM(3 → 4): built for an input of shape [2, 5, 3], evaluated with [2, 7, 3]"))
    }
  }

  @Test func saveAndLoadRoundTrip() throws {
    var rng = SeededGenerator(seed: 5)
    let a = LSTM(inputSize: 3, hiddenSize: 4, using: &rng)
    let b = LSTM(inputSize: 3, hiddenSize: 4, using: &rng)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstm-\(UUID()).st")
    defer { try? FileManager.default.removeItem(at: url) }
    try a.save(to: url)
    try b.load(from: url)
    let x = Var(Tensor.normal([2, 5, 3], dtype: .float32, using: &rng))
    #expect(a(x).value == b(x).value)
  }
}

/// Sequences of random bits (as ±1) labelled with their first bit.
func firstBitTask(count: Int, length: Int, using rng: inout SeededGenerator) -> Dataset {
  var inputs = Tensor.zeros([count, length, 1], dtype: .float32)
  var labels = [Double](repeating: 0, count: count)
  for i in 0..<count {
    for t in 0..<length { inputs[i, t, 0] = Bool.random(using: &rng) ? 1 : -1 }
    labels[i] = inputs[i, 0, 0] > 0 ? 1 : 0
  }
  return Dataset(inputs: inputs, targets: Tensor(labels, dtype: .float32))
}

func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
  zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
