import Autodiff
import Foundation
import NeuralNetworks

/// A single threshold unit learns AND, a linearly separable set, and cannot learn XOR.
enum PerceptronExample: Example {
  static let name = "perceptron"
  static let summary = "a perceptron learns a linearly separable set and fails on XOR"

  static let options: [Option] = [
    .epochs
  ]

  static func run(arguments: Arguments) throws {
    let epochs = try arguments.int("epochs", default: arguments.flag("quick") ? 100 : 500)
    let inputs = Tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype: .float32)
    var accuracies: [String: Double] = [:]
    for (task, targets) in [("AND", [0.0, 0, 0, 1]), ("XOR", [0.0, 1, 1, 0])] {
      var rng = SeededGenerator(seed: 1)
      let model = Perceptron(inputSize: 2, using: &rng)
      let trainer = Trainer(
        model: model, optimizer: SGD(learningRate: 0.1),
        loss: { perceptronLoss(scores: $0, targets: $1) })
      trainer.showsProgress = false
      let data = Dataset(inputs: inputs, targets: Tensor(targets, shape: [4, 1], dtype: .float32))
      try trainer.fit(data, epochs: epochs, batchSize: 4)
      let output = model.classify(inputs).scalars
      let accuracy = Double(zip(output, targets).filter { $0 == $1 }.count) / 4
      accuracies[task] = accuracy
      let w = model.linear.weight.value.scalars.map { String(format: "%.2f", $0) }
      let b = String(format: "%.2f", model.linear.bias!.value[0])
      print(
        "\(task): outputs \(output.map { Int($0) }) for targets \(targets.map { Int($0) }), accuracy \(accuracy)  (w = \(w), b = \(b))"
      )
    }
    print(
      """

      A perceptron draws one line, x·w + b = 0, and answers 1 on one side. The AND points
      can be split by a line; the XOR points cannot: (0,1) and (1,0) must be on one side and
      (0,0) and (1,1) on the other, and any line that puts the first two together puts one
      of the others with them. At most three of the four can be right. A hidden layer fixes
      this (swift run examples xor).
      """)
    guard accuracies["AND"] == 1 else { throw ExampleFailure("the perceptron did not learn AND") }
    guard accuracies["XOR"]! < 1 else {
      throw ExampleFailure("a single layer should not solve XOR")
    }
  }
}
