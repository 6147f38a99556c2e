import Autodiff
import Foundation
import NeuralNetworks

/// One hidden layer of tanh units fits sin on [0, 2π]; the same network with linear units
/// collapses to a single linear map and cannot.
enum SineExample: Example {
  static let name = "sine"
  static let summary = "one hidden layer fits sin on [0, 2π]; linear units alone cannot"

  static let options: [Option] = [
    .epochs
  ]

  static func run(arguments: Arguments) throws {
    let epochs = try arguments.int("epochs", default: arguments.flag("quick") ? 300 : 1500)
    let n = 200
    let x = (0..<n).map { 2 * Double.pi * Double($0) / Double(n - 1) }
    let data = Dataset(
      // Inputs scaled to [−1, 1].
      inputs: Tensor(x.map { $0 / Double.pi - 1 }, shape: [n, 1], dtype: .float32),
      targets: Tensor(x.map { Foundation.sin($0) }, shape: [n, 1], dtype: .float32))
    var losses: [ActivationFunction: Double] = [:]
    for activation in [ActivationFunction.tanh, .identity] {
      var rng = SeededGenerator(seed: 1)
      let model = MLP(sizes: [1, 20, 1], activation: activation, using: &rng)
      let trainer = Trainer(
        model: model, optimizer: Adam(learningRate: 0.01),
        loss: { meanSquaredError(predicted: $0, target: $1) }, seed: 1)
      trainer.showsProgress = false
      let history = try trainer.fit(data, epochs: epochs, batchSize: 20)
      losses[activation] = history.epochs.last!.trainingLoss
      let label = activation == .tanh ? "tanh hidden units  " : "linear hidden units"
      print(
        "\(label): mean squared error \(String(format: "%.5f", history.epochs.last!.trainingLoss))")
    }
    print("A stack of linear maps is one linear map: the best it can do is the best straight line.")
    guard losses[.tanh]! < 0.01 else { throw ExampleFailure("the tanh network did not fit sin") }
    guard losses[.identity]! > 0.1 else {
      throw ExampleFailure("the linear network should not fit sin")
    }
  }
}
