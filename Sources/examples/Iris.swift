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
    .plot,
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
    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      try LineChart(
        title: "Iris: loss per epoch", xAxis: Axis("epoch"),
        yAxis: Axis("cross-entropy", scale: .logarithmic),
        series: [
          .init("training", y: history.epochs.map(\.trainingLoss)),
          .init("test", y: history.epochs.map { $0.validationLoss! }, style: .dashed),
        ]
      ).write(to: plots.appendingPathComponent("iris-loss.svg"))
      try LineChart(
        title: "Iris: accuracy per epoch", xAxis: Axis("epoch"),
        yAxis: Axis("accuracy", range: 0...1),
        series: [
          .init("training", y: history.epochs.map { $0.trainingMetric! }),
          .init("test", y: history.epochs.map { $0.validationMetric! }, style: .dashed),
        ]
      ).write(to: plots.appendingPathComponent("iris-accuracy.svg"))
      print("figures written to \(plots.path)")
    }
    guard accuracy >= 0.9 else { throw ExampleFailure("test accuracy \(accuracy) is below 0.9") }
  }
}
