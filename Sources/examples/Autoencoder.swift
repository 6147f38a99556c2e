import Autodiff
import Foundation
import NeuralNetworks

/// The course's 8-3-8 autoencoder on five 8-bit patterns.
enum AutoencoderExample: Example {
  static let name = "autoencoder"
  static let summary =
    "8-3-8 sigmoid autoencoder on the course's five 8-bit patterns, untied and tied"

  static let patterns: [[Double]] = [
    [1, 0, 1, 0, 0, 1, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 1, 0, 0, 1],
    [1, 0, 0, 0, 1, 0, 1, 1], [1, 0, 0, 1, 0, 1, 0, 1],
  ]

  static let options: [Option] = [
    .epochs,
    .seed,
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let epochs = try arguments.int("epochs", default: 5000)
    let seed = try arguments.seed(default: 1)
    let x = Tensor(patterns, dtype: .float32)
    let data = Dataset(inputs: x, targets: x)
    let plots = arguments.string("plot").map { URL(fileURLWithPath: $0, isDirectory: true) }
    for tied in [false, true] {
      var rng = SeededGenerator(seed: seed)
      let model = Autoencoder(sizes: [8, 3], tiedWeights: tied, using: &rng)
      print(model)
      let trainer = Trainer(
        model: model, optimizer: SGD(learningRate: 0.1, momentum: 0.9),
        loss: { binaryCrossEntropy(predicted: $0, target: $1) }, seed: seed)
      trainer.showsProgress = false
      let history = try trainer.fit(data, epochs: epochs, batchSize: 5)
      let reconstructions = trainer.predict(x)
      let codes = noGrad { model.encoder(Var.constant(x)).value }
      print("loss after \(epochs) epochs: \(history.epochs.last!.trainingLoss)")
      var all = true
      for i in 0..<patterns.count {
        let r = (0..<8).map { reconstructions[i, $0] }
        let rounded = r.map { $0 >= 0.5 ? 1.0 : 0.0 }
        all = all && rounded == patterns[i]
        let code = (0..<3).map { String(format: "%.2f", codes[i, $0]) }.joined(separator: " ")
        print("\(bits(patterns[i])) → code [\(code)] → \(bits(rounded))")
      }
      guard all else {
        throw ExampleFailure(
          "\(tied ? "tied" : "untied") reconstructions do not round to the inputs")
      }
      print("\(tied ? "tied" : "untied") weights: every reconstruction rounds to its input\n")
      if let plots {
        let name = tied ? "tied" : "untied"
        try PixelGrid(
          title: "8-3-8, \(name) weights: inputs, codes, reconstructions",
          images: [
            PixelGrid.Image(x, caption: "inputs"), PixelGrid.Image(codes, caption: "codes"),
            PixelGrid.Image(reconstructions, caption: "outputs"),
          ], range: 0...1, pixelSize: 16
        ).write(to: plots.appendingPathComponent("autoencoder-\(name).svg"))
        try LineChart(
          title: "8-3-8, \(name) weights: training loss", xAxis: Axis("epoch"),
          yAxis: Axis("binary cross-entropy", scale: .logarithmic),
          series: [.init("training", y: history.epochs.map(\.trainingLoss))]
        ).write(to: plots.appendingPathComponent("autoencoder-\(name)-loss.svg"))
      }
    }
    if let plots { print("figures written to \(plots.path)") }
  }

  static func bits(_ v: [Double]) -> String { v.map { $0 >= 0.5 ? "1" : "0" }.joined() }
}
