import Autodiff
import Foundation
import NeuralNetworks

/// Long memory, on the adding problem: each step carries a random number in [0, 1] and a
/// marker; two steps are marked, one among the first 10 and one in the second half, and the
/// answer is the sum of the two marked numbers. The first marked number is at least 50 steps
/// back when the answer is due. An LSTM learns to keep it in its cell state; an Elman RNN
/// with as many units, the same learning-rate grid and the same number of steps does not,
/// because the gradient that would teach it shrinks at every step back: it stays near
/// predicting the mean sum, 1 (mean squared error 1/6).
enum LSTMExample: Example {
  static let name = "lstm"
  static let summary =
    "long memory (the adding problem, 60 steps): the LSTM learns it, the RNN does not"

  static let options: [Option] = [
    .int("length", in: 2...Int.max, "sequence length (default 60; 20 with --quick)"),
    .int("hidden", "state size (default 32)"),
    .epochs,
    .seed,
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    let length = try arguments.int("length", default: quick ? 20 : 60)
    let hidden = try arguments.int("hidden", default: 32)
    let epochs = try arguments.int("epochs", default: quick ? 10 : 20)
    let seed = try arguments.seed(default: 1)
    let learningRates = quick ? [0.01] : [0.001, 0.003, 0.01]

    var rng = SeededGenerator(seed: seed)
    let train = AddingProblem.dataset(count: quick ? 1024 : 4096, length: length, using: &rng)
    let test = AddingProblem.dataset(count: 1024, length: length, using: &rng)
    print(
      "adding problem: \(train.count) training and \(test.count) test sequences of \(length) steps"
    )
    print(
      "hidden units: \(hidden); Adam with learning rates \(learningRates); \(epochs) epochs of batches of 32; predicting 1 scores 0.167"
    )

    var best: [String: (error: Double, rate: Double)] = [:]
    var curves: [LineChart.Series] = []
    for kind in ["RNN", "LSTM"] {
      for rate in learningRates {
        var rng = SeededGenerator(seed: seed)
        let layer: RecurrentLayer =
          kind == "LSTM"
          ? LSTM(inputSize: 2, hiddenSize: hidden, using: &rng)
          : RNN(inputSize: 2, hiddenSize: hidden, using: &rng)
        let model = Sequential(
          layer, LastStep(), Linear(inputSize: hidden, outputSize: 1, using: &rng))
        let trainer = Trainer(
          model: model, optimizer: Adam(learningRate: rate),
          loss: { meanSquaredError(predicted: $0, target: $1) }, seed: seed)
        trainer.gradientClipNorm = 1
        let history = try trainer.fit(train, epochs: epochs, batchSize: 32)
        curves.append(
          .init(
            "\(kind), lr \(rate)", y: history.epochs.map(\.trainingLoss),
            style: kind == "LSTM" ? .solid : .dashed))
        let error = trainer.evaluate(test).loss
        print(
          "  \(kind.padding(toLength: 4, withPad: " ", startingAt: 0)) learning rate \(rate): test mean squared error \(String(format: "%.4f", error))"
        )
        if error < best[kind]?.error ?? .infinity { best[kind] = (error, rate) }
      }
    }
    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      try LineChart(
        title: "Adding problem, \(length) steps: training loss", xAxis: Axis("epoch"),
        yAxis: Axis("mean squared error", scale: .logarithmic), series: curves
      ).write(to: plots.appendingPathComponent("lstm-adding-loss.svg"))
      print("figures written to \(plots.path)")
    }
    let (rnn, lstm) = (best["RNN"]!, best["LSTM"]!)
    print("best RNN: \(String(format: "%.4f", rnn.error)) (learning rate \(rnn.rate))")
    print("best LSTM: \(String(format: "%.4f", lstm.error)) (learning rate \(lstm.rate))")
    // Solved: a mean squared error of 0.01 or less, one sixteenth of the baseline's.
    let solved = 0.01
    print(
      "solved (error ≤ \(solved)): LSTM \(lstm.error <= solved ? "yes" : "no"), RNN \(rnn.error <= solved ? "yes" : "no")"
    )
    guard lstm.error <= solved && (quick || rnn.error > solved) else {
      throw ExampleFailure(
        "expected the LSTM to solve the task and the RNN not to; got errors \(lstm.error) and \(rnn.error)"
      )
    }
  }
}

/// The adding problem of Hochreiter and Schmidhuber (1997).
enum AddingProblem {
  /// Sequences `[count, length, 2]` of (number, marker) and their targets `[count, 1]`.
  static func dataset(count: Int, length: Int, using rng: inout SeededGenerator) -> Dataset {
    var inputs = Tensor.zeros([count, length, 2], dtype: .float32)
    var targets = Tensor.zeros([count, 1], dtype: .float32)
    for i in 0..<count {
      for t in 0..<length { inputs[i, t, 0] = Double.random(in: 0..<1, using: &rng) }
      let first = Int.random(in: 0..<Swift.min(10, length / 2), using: &rng)
      let second = Int.random(in: (length / 2)..<length, using: &rng)
      inputs[i, first, 1] = 1
      inputs[i, second, 1] = 1
      targets[i, 0] = inputs[i, first, 0] + inputs[i, second, 0]
    }
    return Dataset(inputs: inputs, targets: targets)
  }
}
