import Autodiff
import Foundation
import NeuralNetworks
import Testing

/// Every kind of module, saved and loaded into one built with other weights, predicts bit
/// for bit what the saved one predicts: parameters and buffers travel in the file.
@Suite("Saving every layer")
struct SavingTests {
  /// A module made from a seed, and an input for it.
  struct Case: Sendable, CustomStringConvertible {
    var description: String
    var make: @Sendable (UInt64) -> Module
    var input: [Int]
    /// Builds the input values (indices for embeddings, say) from normal samples.
    var values: @Sendable (Tensor) -> Tensor = { $0 }
  }

  static func generator(_ seed: UInt64) -> SeededGenerator { SeededGenerator(seed: seed) }

  static let cases: [Case] = [
    Case(
      description: "Linear",
      make: {
        var g = generator($0)
        return Linear(inputSize: 3, outputSize: 2, using: &g)
      }, input: [4, 3]),
    Case(
      description: "MLP",
      make: {
        var g = generator($0)
        return MLP(sizes: [3, 5, 2], using: &g)
      }, input: [4, 3]),
    Case(
      description: "Sequential with Residual, Flatten, Dropout, activations",
      make: {
        var g = generator($0)
        return Sequential(
          Flatten(), Residual(Linear(inputSize: 6, outputSize: 6, using: &g)),
          Activation(.elu(alpha: 0.5)), Dropout(rate: 0.5, seed: $0),
          Linear(inputSize: 6, outputSize: 2, using: &g))
      }, input: [4, 2, 3]),
    Case(
      description: "BatchNorm",
      make: {
        var g = generator($0)
        return Sequential(
          Linear(inputSize: 3, outputSize: 4, using: &g), BatchNorm(features: 4),
          Activation(.relu), Linear(inputSize: 4, outputSize: 2, using: &g))
      }, input: [5, 3]),
    Case(description: "LayerNorm", make: { _ in LayerNorm(features: 3) }, input: [4, 3]),
    Case(
      description: "Embedding",
      make: {
        var g = generator($0)
        return Embedding(count: 7, dimension: 3, using: &g)
      },
      input: [2, 5],
      values: { x in
        Tensor(x.scalars.map { Double(Int(abs($0) * 3) % 7) }, shape: x.shape, dtype: .float32)
      }),
    Case(
      description: "Conv2D and MaxPool2D",
      make: {
        var g = generator($0)
        return Sequential(
          Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, using: &g),
          MaxPool2D(size: 2))
      }, input: [2, 2, 4, 4]),
    Case(
      description: "RNN",
      make: {
        var g = generator($0)
        return RNN(inputSize: 3, hiddenSize: 4, using: &g)
      }, input: [2, 5, 3]),
    Case(
      description: "LSTM",
      make: {
        var g = generator($0)
        return LSTM(inputSize: 3, hiddenSize: 4, using: &g)
      }, input: [2, 5, 3]),
    Case(
      description: "GRU and LastStep",
      make: {
        var g = generator($0)
        return Sequential(GRU(inputSize: 3, hiddenSize: 4, using: &g), LastStep())
      }, input: [2, 5, 3]),
    Case(
      description: "Autoencoder (tied)",
      make: {
        var g = generator($0)
        return Autoencoder(sizes: [6, 3], tiedWeights: true, using: &g)
      }, input: [4, 6]),
    Case(
      description: "Perceptron",
      make: {
        var g = generator($0)
        return Perceptron(inputSize: 3, using: &g)
      }, input: [4, 3]),
    Case(
      description: "LogisticRegression",
      make: {
        var g = generator($0)
        return LogisticRegression(inputSize: 3, using: &g)
      }, input: [4, 3]),
    Case(
      description: "HopfieldNetwork",
      make: { seed in
        var g = generator(seed)
        let network = HopfieldNetwork(unitCount: 6)
        network.storeHebbian(
          Tensor(
            (0..<18).map { _ in Bool.random(using: &g) ? 1.0 : -1 }, shape: [3, 6], dtype: .float32)
        )
        return network
      }, input: [4, 6]),
    Case(
      description: "ModernHopfield with projections",
      make: {
        var g = generator($0)
        return ModernHopfield(
          storing: Tensor.normal([5, 4], dtype: .float32, using: &g), beta: 2, projectionSize: 3,
          using: &g)
      },
      input: [3, 4]),
    Case(
      description: "VAE",
      make: {
        var g = generator($0)
        return VAE(inputSize: 6, hiddenSize: 5, latentSize: 2, using: &g)
      }, input: [4, 6],
      values: { x in
        Tensor(x.scalars.map { 1 / (1 + Foundation.exp(-$0)) }, shape: x.shape, dtype: .float32)
      }),
    Case(
      description: "CharacterLanguageModel",
      make: {
        var g = generator($0)
        return CharacterLanguageModel(vocabularySize: 6, embeddingSize: 3, hiddenSize: 4, using: &g)
      },
      input: [2, 5],
      values: { x in
        Tensor(x.scalars.map { Double(Int(abs($0) * 4) % 6) }, shape: x.shape, dtype: .float32)
      }),
  ]

  @Test(arguments: cases)
  func roundTripPredictsBitForBit(_ example: Case) throws {
    var rng = SeededGenerator(seed: 3)
    let input = Var.constant(
      example.values(Tensor.normal(example.input, dtype: .float32, using: &rng)))
    let saved = example.make(1)
    // Some training-mode passes change the buffers (batch normalization's averages).
    for _ in 0..<3 { _ = noGrad { saved(input) } }
    saved.isTraining = false
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("module-\(UUID()).st")
    defer { try? FileManager.default.removeItem(at: url) }
    try saved.save(to: url)
    let loaded = example.make(2)
    loaded.isTraining = false
    try loaded.load(from: url)
    #expect(noGrad { saved(input) }.value == noGrad { loaded(input) }.value, "\(example)")
  }

  @Test func batchNormRunningAveragesTravelWithTheParameters() throws {
    let norm = BatchNorm(features: 2)
    var rng = SeededGenerator(seed: 4)
    _ = noGrad {
      norm(Var.constant(Tensor.normal([50, 2], mean: 3, dtype: .float32, using: &rng)))
    }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bn-\(UUID()).st")
    defer { try? FileManager.default.removeItem(at: url) }
    try norm.save(to: url)
    let loaded = BatchNorm(features: 2)
    try loaded.load(from: url)
    #expect(loaded.runningMean == norm.runningMean)
    #expect(loaded.runningVariance == norm.runningVariance)
    #expect(loaded.runningMean != Tensor.zeros([2], dtype: .float32))
  }
}
