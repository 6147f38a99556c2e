import Autodiff
import Foundation
import NeuralNetworks

/// An MLP on the 8×8 handwritten digits shipped with the package; with `--conv`, a
/// LeNet-style convolutional network instead (convolution, ReLU, max-pooling, a second
/// convolution, a linear classifier); with `--lstm`, an LSTM that reads each image as a
/// sequence of 8 rows of 8 pixels and classifies it from its last hidden state.
enum DigitsExample: Example {
  static let name = "digits"
  static let summary =
    "MLP (--conv: a LeNet-style net, --lstm: rows as a sequence) on the 8×8 digits; full run ≥ 0.97 (LSTM ≥ 0.95)"

  static let options: [Option] = [
    .flag("conv", "the convolutional network instead of the MLP"),
    .flag("lstm", "an LSTM reading the image row by row"),
    .epochs,
    .seed,
    .int("hidden", "hidden units (default 128)"),
    .double("dropout", in: 0...0.99, "dropout rate (default 0.3)"),
    .double("rate", "Adam learning rate"),
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    let convolutional = arguments.flag("conv")
    let recurrent = arguments.flag("lstm")
    let epochs = try arguments.int(
      "epochs", default: quick ? (recurrent ? 15 : 5) : convolutional ? 30 : 60)
    var rng = SeededGenerator(seed: try arguments.seed(default: 1))
    let hidden = try arguments.int("hidden", default: 128)
    let dropout = try arguments.double("dropout", default: 0.3)
    let rate = try arguments.double("rate", default: recurrent ? 5e-3 : 2e-3)
    var digits = try Datasets.digits().shuffled(using: &rng)
    if convolutional { digits.inputs = digits.inputs.reshaped([digits.count, 1, 8, 8]) }
    if recurrent { digits.inputs = digits.inputs.reshaped([digits.count, 8, 8]) }
    let parts = digits.split([0.8, 0.2])
    let (train, test) = (parts[0], parts[1])
    print("\(train.count) training and \(test.count) test images")
    let model =
      recurrent
      ? Sequential(
        LSTM(inputSize: 8, hiddenSize: hidden, using: &rng), LastStep(),
        Dropout(rate: dropout, seed: 2), Linear(inputSize: hidden, outputSize: 10, using: &rng))
      : convolutional
        ? Sequential(
          // 8×8 maps, pooled to 4×4, then to 2×2.
          Conv2D(inputChannels: 1, outputChannels: 8, kernelSize: 3, padding: 1, using: &rng),
          Activation(.relu), MaxPool2D(size: 2),
          Conv2D(inputChannels: 8, outputChannels: 16, kernelSize: 3, padding: 1, using: &rng),
          Activation(.relu), MaxPool2D(size: 2),
          Flatten(), Linear(inputSize: 16 * 2 * 2, outputSize: 10, using: &rng))
        : Sequential(
          Linear(inputSize: 64, outputSize: 128, initialization: .he, using: &rng),
          Activation(.relu),
          Dropout(rate: 0.1, seed: 2),
          Linear(inputSize: 128, outputSize: 10, using: &rng))
    print(model)
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: rate),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy, seed: 1)
    trainer.schedule = CosineDecay(totalSteps: epochs, minimum: 1e-4)
    let history = try trainer.fit(train, validation: test, epochs: epochs, batchSize: 32)
    let last = history.epochs.last!
    print(
      "training loss \(String(format: "%.4f", last.trainingLoss)), training accuracy \(String(format: "%.4f", last.trainingMetric!))"
    )
    let accuracy = last.validationMetric!
    print("test accuracy: \(String(format: "%.4f", accuracy))")
    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      try LineChart(
        title: "Digits: loss per epoch", xAxis: Axis("epoch"),
        yAxis: Axis("cross-entropy", scale: .logarithmic),
        series: [
          .init("training", y: history.epochs.map(\.trainingLoss)),
          .init("test", y: history.epochs.map { $0.validationLoss! }, style: .dashed),
        ]
      ).write(to: plots.appendingPathComponent("digits-loss.svg"))
      let answers = trainer.predict(test.inputs).argmaxRows
      let labels = test.targets.labels
      let wrong = labels.indices.filter { answers[$0] != labels[$0] }.prefix(40)
      let images = test.inputs.reshaped([test.count, 64]).rowScalars
      try PixelGrid(
        title: "Misread test digits (true → answered)",
        images: wrong.map {
          PixelGrid.Image(
            pixels: images[$0], width: 8, height: 8, caption: "\(labels[$0]) → \(answers[$0])")
        }, pixelSize: 6
      ).write(to: plots.appendingPathComponent("digits-misread.svg"))
      print("figures written to \(plots.path)")
    }
    let required = quick ? 0.85 : recurrent ? 0.95 : 0.97
    guard accuracy >= required else {
      throw ExampleFailure("test accuracy \(accuracy) is below \(required)")
    }
  }
}
