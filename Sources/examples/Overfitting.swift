import Autodiff
import Foundation
import NeuralNetworks

/// The course's overfitting story: six dose/blood-sugar samples and a 1-250-250-1 ReLU
/// network that fits them almost exactly but predicts fresh samples worse; weight decay,
/// more data and dropout each lower the test error.
enum OverfittingExample: Example {
  static let name = "overfitting"
  static let summary =
    "6-point regression with 2 × 250 ReLU units; weight decay, more data and dropout help"

  /// The true relation the samples come from (dose in [0, 1] → blood sugar), plus noise.
  static func bloodSugar(_ dose: Double) -> Double {
    0.4 + 0.5 * dose - 0.3 * Foundation.sin(3 * dose)
  }

  static func samples(_ n: Int, noise: Double, using rng: inout SeededGenerator) -> Dataset {
    let x = (0..<n).map { _ in Double.random(in: 0...1, using: &rng) }
    let y = x.map { bloodSugar($0) + noise * rng.nextNormal() }
    return Dataset(
      inputs: Tensor(x, shape: [n, 1], dtype: .float32),
      targets: Tensor(y, shape: [n, 1], dtype: .float32))
  }

  static let options: [Option] = [
    .epochs,
    .seed,
    .double(
      "noise", in: 0...Double.greatestFiniteMagnitude,
      "standard deviation of the targets' noise (default 0.1)"),
    .double("decay", in: 0...Double.greatestFiniteMagnitude, "weight decay λ (default 1)"),
    .double("dropout", in: 0...0.99, "dropout rate (default 0.2)"),
    .double("lr", "learning rate (default 0.003)"),
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let epochs = try arguments.int("epochs", default: 2000)  // short enough for --quick too
    var rng = SeededGenerator(seed: try arguments.seed(default: 1))
    let noise = try arguments.double("noise", default: 0.1)
    let lambda = try arguments.double("decay", default: 1)
    let rate = try arguments.double("dropout", default: 0.2)
    let learningRate = try arguments.double("lr", default: 3e-3)
    let six = samples(6, noise: noise, using: &rng)
    let many = samples(300, noise: noise, using: &rng)
    let test = samples(300, noise: noise, using: &rng)
    let doses = (0...100).map { Double($0) / 100 }
    let grid = Tensor(doses, shape: [101, 1], dtype: .float32)
    var fits: [LineChart.Series] = []

    func train(_ label: String, data: Dataset, weightDecay: Double = 0, dropout: Double = 0) throws
      -> (
        Double, Double, Double
      )
    {
      var weights = SeededGenerator(seed: 7)
      // Random first-layer biases (U(−1, 1), PyTorch's default for one input) spread the ReLU
      // kinks over the doses; with zero biases they would all sit at 0.
      let first = Linear(inputSize: 1, outputSize: 250, initialization: .he, using: &weights)
      first.bias!.updateValue {
        $0 = Tensor.uniform([250], in: -1...1, dtype: .float32, using: &weights)
      }
      var layers: [Module] = [first, Activation(.relu)]
      if dropout > 0 { layers.append(Dropout(rate: dropout, seed: 3)) }
      layers += [
        Linear(inputSize: 250, outputSize: 250, initialization: .he, using: &weights),
        Activation(.relu),
      ]
      if dropout > 0 { layers.append(Dropout(rate: dropout, seed: 4)) }
      layers.append(Linear(inputSize: 250, outputSize: 1, using: &weights))
      let model = Sequential(layers)
      let trainer = Trainer(
        model: model,
        optimizer: weightDecay > 0
          ? AdamW(learningRate: learningRate, weightDecay: weightDecay)
          : Adam(learningRate: learningRate),
        loss: { meanSquaredError(predicted: $0, target: $1) }, seed: 5)
      trainer.showsProgress = false
      let history = try trainer.fit(
        data, epochs: data.count > 6 ? epochs / 10 : epochs, batchSize: 32)
      let (testLoss, _) = trainer.evaluate(test)
      let norm = model.parameters.map { $0.value.scalars.map { $0 * $0 }.reduce(0, +) }.reduce(0, +)
      let trainLoss = history.epochs.last!.trainingLoss
      fits.append(.init(label, x: doses, y: trainer.predict(grid).scalars))
      print(
        "\(label.padding(toLength: 24, withPad: " ", startingAt: 0)) train \(String(format: "%.2e", trainLoss))   test \(String(format: "%.5f", testLoss))   ‖θ‖² \(String(format: "%.1f", norm))"
      )
      return (trainLoss, testLoss, norm)
    }
    let plain = try train("6 samples", data: six)
    let decay = try train("6 samples, weight decay", data: six, weightDecay: lambda)
    let more = try train("300 samples", data: many)
    let dropped = try train("6 samples, dropout \(rate)", data: six, dropout: rate)
    guard plain.0 < 1e-3 else { throw ExampleFailure("the network did not fit the six samples") }
    guard plain.1 > 10 * plain.0 else {
      throw ExampleFailure("the test error should be far above the training error")
    }
    for (name, result) in [("weight decay", decay), ("more data", more), ("dropout", dropped)]
    where result.1 >= plain.1 {
      throw ExampleFailure("\(name) did not lower the test error (\(result.1) vs \(plain.1))")
    }
    print("Each remedy lowers the test error of the overfitted network.")
    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      var chart = LineChart(
        title: "Functions fitted to six samples (dots)", xAxis: Axis("dose"),
        yAxis: Axis("blood sugar"),
        series: [
          .init(
            "true relation", x: doses, y: doses.map(bloodSugar), color: Color(hex: "333333"),
            style: .dashed)
        ] + fits)
      for (dose, sugar) in zip(six.inputs.scalars, six.targets.scalars) {
        chart.series.append(.init("", x: [dose], y: [sugar], color: .black, showsMarkers: true))
      }
      try chart.write(to: plots.appendingPathComponent("overfitting-fits.svg"))
      try BarChart(
        title: "Test error on 300 fresh samples", categories: fits.map(\.label),
        yAxis: Axis("test MSE", scale: .logarithmic),
        series: [.init("", values: [plain.1, decay.1, more.1, dropped.1])]
      ).write(to: plots.appendingPathComponent("overfitting-test-error.svg"))
      print("figures written to \(plots.path)")
    }
  }
}
