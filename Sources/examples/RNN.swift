import Autodiff
import Foundation
import NeuralNetworks

/// The course's recurrent network: predicting the next number of a sequence, and the norms
/// of ∂E/∂hᵗ through time that vanish or explode with the recurrent matrix.
enum RNNExample: Example {
  static let name = "rnn"
  static let summary =
    "Elman RNN: the course's next-number tasks and vanishing/exploding gradients through time"

  static let options: [Option] = [
    .epochs,
    .seed,
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    let epochs = try arguments.int("epochs", default: quick ? 60 : 300)
    let seed = try arguments.seed(default: 1)

    print("Next number of a sequence (an RNN of 16 tanh units, trained on random sequences):")
    var failures: [String] = []
    for task in SequenceTask.allCases {
      var rng = SeededGenerator(seed: seed)
      let model = Sequential(
        RNN(inputSize: 1, hiddenSize: 16, using: &rng), LastStep(),
        Linear(inputSize: 16, outputSize: 1, using: &rng))
      let trainer = Trainer(
        model: model, optimizer: Adam(learningRate: 0.01),
        loss: { meanSquaredError(predicted: $0, target: $1) }, seed: seed)
      try trainer.fit(task.dataset(count: 512, using: &rng), epochs: epochs, batchSize: 32)
      let probe = Tensor(task.course.map { $0 / task.scale }, shape: [1, 4, 1], dtype: .float32)
      let next = trainer.predict(probe).scalar * task.scale
      let shown = task.course.map { String(Int($0)) }.joined(separator: ", ")
      print(
        "  \(task): \(shown) → \(String(format: "%.2f", next)) (expected \(Int(task.answer)))")
      if abs(next - task.answer) > task.tolerance(quick: quick) {
        failures.append("\(task): predicted \(next) for \(task.answer)")
      }
    }

    print("\n‖∂E/∂hᵗ‖ for E = Σ h²⁰ (tanh units in their linear range, recurrent W = ρ·Q):")
    let steps = 20
    let shrinking = gradientNorms(radius: 0.5, steps: steps, seed: seed)
    let growing = gradientNorms(radius: 1.5, steps: steps, seed: seed)
    print("   t   ρ = 0.5      ρ = 1.5")
    for t in stride(from: steps, through: 1, by: -1) where t == steps || t % 4 == 1 {
      print(
        String(format: "  %2d   %.3e    %.3e", t, shrinking[t - 1], growing[t - 1]))
    }
    let vanished = shrinking[0] / shrinking[steps - 1]
    let exploded = growing[0] / growing[steps - 1]
    print(
      "from t = \(steps) back to t = 1 the norm is multiplied by \(String(format: "%.1e", vanished)) with ρ = 0.5 and by \(String(format: "%.1e", exploded)) with ρ = 1.5 (0.5¹⁹ = \(String(format: "%.1e", pow(0.5, 19.0))), 1.5¹⁹ = \(String(format: "%.1e", pow(1.5, 19.0))))"
    )
    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      let t = (1...steps).map(Double.init)
      try LineChart(
        title: "‖∂E/∂hᵗ‖ through \(steps) steps, W = ρ·orthogonal", xAxis: Axis("step t"),
        yAxis: Axis("gradient norm", scale: .logarithmic),
        series: [.init("ρ = 0.5", x: t, y: shrinking), .init("ρ = 1.5", x: t, y: growing)]
      ).write(to: plots.appendingPathComponent("rnn-gradient-norms.svg"))
      print("figures written to \(plots.path)")
    }
    if !(vanished < 1e-4 && exploded > 1e2) {
      failures.append("the gradient norms did not vanish and explode: \(vanished), \(exploded)")
    }
    guard failures.isEmpty else { throw ExampleFailure(failures.joined(separator: "; ")) }
  }

  /// ‖∂E/∂hᵗ‖ for t = 1…steps, E the sum of the last hidden state, for a tanh RNN of 16 units
  /// whose recurrent matrix has all its singular values equal to `radius`, driven by small
  /// inputs from a zero state.
  static func gradientNorms(radius: Double, steps: Int, seed: UInt64) -> [Double] {
    var rng = SeededGenerator(seed: seed)
    let hidden = 16
    let rnn = RNN(
      inputWeight: Var(
        Tensor.normal([1, hidden], standardDeviation: 0.01, dtype: .float64, using: &rng)),
      recurrentWeight: Var(
        Initialization.orthogonal(gain: radius).weights(
          fanIn: hidden, fanOut: hidden, dtype: .float64, using: &rng)),
      bias: Var(Tensor.zeros([hidden], dtype: .float64)))
    let x = Var(
      Tensor.normal([1, steps, 1], standardDeviation: 0.01, dtype: .float64, using: &rng))
    let states = rnn.unrolled(x).outputs
    states[steps - 1].sum().backward()
    return states.map { $0.grad!.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot() }
  }
}

/// The course's sequence examples: arithmetic (0, 2, 4, 6 → 8) and doubling (1, 2, 4, 8 → 16).
enum SequenceTask: CaseIterable, CustomStringConvertible {
  case arithmetic, doubling

  var course: [Double] { self == .arithmetic ? [0, 2, 4, 6] : [1, 2, 4, 8] }
  var answer: Double { self == .arithmetic ? 8 : 16 }
  /// Numbers are divided by this before they enter the network.
  var scale: Double { 16 }
  var description: String { self == .arithmetic ? "arithmetic" : "doubling" }

  func tolerance(quick: Bool) -> Double { quick ? 2 : 0.5 }

  /// Random sequences of four numbers of this kind, each with its fifth as the target.
  func dataset(count: Int, using rng: inout SeededGenerator) -> Dataset {
    var inputs = Tensor.zeros([count, 4, 1], dtype: .float32)
    var targets = Tensor.zeros([count, 1], dtype: .float32)
    for i in 0..<count {
      var values: [Double]
      switch self {
      case .arithmetic:
        let (start, step) = (
          Double.random(in: -4...4, using: &rng), Double.random(in: -3...3, using: &rng)
        )
        values = (0..<5).map { start + Double($0) * step }
      case .doubling:
        let start = Double.random(in: -1.2...1.2, using: &rng)
        values = (0..<5).map { start * pow(2, Double($0)) }
      }
      for t in 0..<4 { inputs[i, t, 0] = values[t] / scale }
      targets[i, 0] = values[4] / scale
    }
    return Dataset(inputs: inputs, targets: targets)
  }
}
