import Autodiff
import Foundation
import NeuralNetworks
import Testing

/// The one default dtype, `Float`, for what NeuralNetworks makes (the Autodiff side is
/// pinned in AutodiffTests' DTypeTests), and Double data meeting a Float model.
@Suite("Default dtype")
struct DefaultDTypeTests {
  @Test func layersLabelsAndDatasetsMadeWithoutADTypeAreFloat() throws {
    var rng = SeededGenerator(seed: 1)
    let linear = Linear(inputSize: 3, outputSize: 2, using: &rng)
    #expect(linear.weight.dtype == .float32 && linear.bias!.dtype == .float32)
    let models: [Module] = [
      MLP(sizes: [3, 4, 2], using: &rng),
      Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, using: &rng),
      Embedding(count: 5, dimension: 2, using: &rng),
      LSTM(inputSize: 2, hiddenSize: 3, using: &rng),
      BatchNorm(features: 3), VAE(inputSize: 4, hiddenSize: 3, latentSize: 2, using: &rng),
    ]
    for model in models {
      #expect(model.parameters.allSatisfy { $0.dtype == .float32 }, "\(model.summary)")
    }
    #expect(Tensor.oneHot([0, 2], classes: 3).dtype == .float32)
    let datasets = [
      Datasets.xor(), try Datasets.iris(), Datasets.letters(),
      Dataset.nextSymbol([0, 1, 2, 3, 4], length: 2),
      Dataset.padded(
        sequences: [Tensor.zeros([2, 1]), Tensor.zeros([3, 1])], stepLabels: [[0, 1], [1, 0, 1]]),
    ]
    for data in datasets {
      #expect(data.inputs.dtype == .float32 && data.targets.dtype == .float32)
    }
  }

  /// A Double input into a default (Float) layer computes in Double, with the Float
  /// weights' values, and each gradient comes back in its own leaf's dtype.
  @Test func aDoubleInputIntoAFloatLayerPromotes() throws {
    var rng = SeededGenerator(seed: 2)
    let linear = Linear(inputSize: 3, outputSize: 2, using: &rng)
    linear.bias!.set(Tensor([0.5, -0.25]))
    let x = Var(Tensor.normal([4, 3], dtype: .float64, using: &rng))
    let y = linear(x)
    #expect(y.dtype == .float64)
    let double = Linear(
      weight: Var(linear.weight.value.converted(to: .float64)),
      bias: Var(linear.bias!.value.converted(to: .float64)))
    #expect(y.value == double(x).value)
    y.sum().backward()
    #expect(x.grad!.dtype == .float64)
    #expect(linear.weight.grad!.dtype == .float32 && linear.bias!.grad!.dtype == .float32)
    SGD(learningRate: 0.1).update(linear.parameters)
    #expect(linear.parameters.allSatisfy { $0.dtype == .float32 })

    // A Trainer fed Double data trains the Float model, which stays Float.
    let mlp = MLP(sizes: [3, 4, 2], using: &rng)
    let data = Dataset(
      inputs: Tensor.normal([8, 3], dtype: .float64, using: &rng),
      targets: Tensor((0..<8).map { Double($0 % 2) }, dtype: .float64))
    let trainer = Trainer(
      model: mlp, optimizer: Adam(learningRate: 0.01),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy)
    trainer.showsProgress = false
    try trainer.fit(data, epochs: 2, batchSize: 4)
    #expect(mlp.parameters.allSatisfy { $0.dtype == .float32 })
    #expect(trainer.evaluate(data).loss.isFinite)
  }
}
