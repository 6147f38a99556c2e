import Autodiff
import Foundation
import NeuralNetworks

/// Gradient norms per layer in a deep network: sigmoid layers shrink the gradient by at
/// least 4× each (σ′ ≤ 1/4); ReLU with He initialization and batch normalization keep it.
enum VanishingExample: Example {
  static let name = "vanishing"
  static let summary = "gradient norm per layer: deep sigmoid vs ReLU vs batch norm"

  static let options: [Option] = [
    .int("depth", "number of hidden layers (default 10)"),
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let depth = try arguments.int("depth", default: 10)
    let width = 64
    var rng = SeededGenerator(seed: 1)
    let x = Var.constant(Tensor.normal([128, width], dtype: .float64, using: &rng))
    let labels = (0..<128).map { _ in Int.random(in: 0..<10, using: &rng) }
    var ratios: [String: Double] = [:]
    var curves: [LineChart.Series] = []
    print("gradient norm of each layer's weights, first layer to last:")
    for variant in ["sigmoid", "relu", "sigmoid + batch norm"] {
      var weights = SeededGenerator(seed: 2)
      var layers: [Module] = []
      var linears: [Linear] = []
      for _ in 0..<depth {
        let linear = Linear(
          inputSize: width, outputSize: width,
          initialization: variant == "relu" ? .he : .scaledNormal,
          dtype: .float64, using: &weights)
        linears.append(linear)
        layers.append(linear)
        if variant.contains("batch") { layers.append(BatchNorm(features: width, dtype: .float64)) }
        layers.append(Activation(variant == "relu" ? .relu : .sigmoid))
      }
      layers.append(Linear(inputSize: width, outputSize: 10, dtype: .float64, using: &weights))
      let model = Sequential(layers)
      crossEntropy(logits: model(x), labels: labels).backward()
      let norms = linears.map { $0.weight.grad!.scalars.map { $0 * $0 }.reduce(0, +).squareRoot() }
      ratios[variant] = norms.first! / norms.last!
      curves.append(.init(variant, x: (1...depth).map(Double.init), y: norms, showsMarkers: true))
      print(
        "\(variant.padding(toLength: 21, withPad: " ", startingAt: 0)) "
          + norms.map { String(format: "%.1e", $0) }.joined(separator: " "))
    }
    for (variant, ratio) in ratios.sorted(by: { $0.key < $1.key }) {
      print("\(variant): first/last = \(String(format: "%.2e", ratio))")
    }
    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      try LineChart(
        title: "Gradient norm of each layer's weights", xAxis: Axis("layer (first to last)"),
        yAxis: Axis("‖∇W‖", scale: .logarithmic), series: curves
      ).write(to: plots.appendingPathComponent("vanishing-gradient-norms.svg"))
      print("figures written to \(plots.path)")
    }
    guard ratios["sigmoid"]! < 1e-3 else {
      throw ExampleFailure("the sigmoid gradients should vanish")
    }
    guard ratios["relu"]! > 0.05, ratios["sigmoid + batch norm"]! > 0.05 else {
      throw ExampleFailure("ReLU and batch norm should keep the gradient")
    }
  }
}
