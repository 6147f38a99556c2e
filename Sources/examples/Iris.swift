import Autodiff
import Foundation
import NeuralNetworks

/// An MLP classifies Fisher's iris flowers from four measurements.
enum IrisExample: Example {
  static let name = "iris"
  static let summary = "MLP classifier on the iris flowers, with test accuracy"

  static let options: [Option] = [
    .epochs,
    .seed,
  ]

  static func run(arguments: Arguments) throws {
    let epochs = try arguments.int("epochs", default: arguments.flag("quick") ? 100 : 300)
    var rng = SeededGenerator(seed: try arguments.seed(default: 1))
    let parts = try Datasets.iris().shuffled(using: &rng).split([0.8, 0.2])
    var (train, test) = (parts[0], parts[1])
    let scaler = Standardizer(fitting: train.inputs)
    train.inputs = scaler.transform(train.inputs)
    test.inputs = scaler.transform(test.inputs)
    let model = MLP(sizes: [4, 16, 3], activation: .tanh, using: &rng)
    print(model)
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.01),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy, seed: 1)
    let history = try trainer.fit(train, validation: test, epochs: epochs, batchSize: 16)
    let last = history.epochs.last!
    let accuracy = last.validationMetric!
    let predicted = trainer.predict(test.inputs).argmaxRows
    let confusion = Metrics.confusionMatrix(
      predicted: predicted, labels: test.targets.labels, classes: 3)
    print(
      "training loss \(String(format: "%.4f", last.trainingLoss)), training accuracy \(String(format: "%.3f", last.trainingMetric!))"
    )
    print("confusion matrix (rows: true setosa, versicolor, virginica):")
    for row in confusion {
      print("  " + row.map { String(format: "%3d", $0) }.joined(separator: " "))
    }
    print("test accuracy: \(String(format: "%.3f", accuracy))")
    guard accuracy >= 0.9 else { throw ExampleFailure("test accuracy \(accuracy) is below 0.9") }
  }
}
