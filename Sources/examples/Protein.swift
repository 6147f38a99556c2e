import Autodiff
import Foundation
import NeuralNetworks

/// The Qian–Sejnowski secondary-structure network: a window of 13 residues, each one-hot
/// over 21 symbols (273 inputs), 40 sigmoid hidden units, 3 softmax outputs.
enum ProteinExample: Example {
  static let name = "protein"
  static let summary =
    "Qian–Sejnowski MLP for protein secondary structure (--data DIR for the UCI files)"

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    var rng = SeededGenerator(seed: UInt64(try arguments.int("seed", default: 1)))
    let train: Dataset
    let test: Dataset
    let baseline: Double
    if let directory = arguments.string("data") {
      let folder = URL(fileURLWithPath: directory)
      train = try ProteinSecondaryStructure(
        contentsOf: folder.appendingPathComponent("protein-secondary-structure.train")
      ).windows()
      test = try ProteinSecondaryStructure(
        contentsOf: folder.appendingPathComponent("protein-secondary-structure.test")
      ).windows()
      baseline = 0.5
      print("UCI data: \(train.count) training and \(test.count) test residues")
    } else {
      print("No --data DIR given: training on a synthetic sequence task instead of the UCI files.")
      let proteins = (0..<(quick ? 60 : 200)).map { _ in synthetic(length: 120, using: &rng) }
      let split = proteins.count * 3 / 4
      train = ProteinSecondaryStructure(proteins: Array(proteins[..<split])).windows()
      test = ProteinSecondaryStructure(proteins: Array(proteins[split...])).windows()
      let counts = (0..<3).map { c in test.targets.labels.filter { $0 == c }.count }
      baseline = Double(counts.max()!) / Double(test.count)
      print(
        "\(train.count) training and \(test.count) test residues; majority class: \(String(format: "%.3f", baseline))"
      )
    }
    let model = MLP(sizes: [13 * 21, 40, 3], activation: .sigmoid, using: &rng)
    print(model)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: 0.5, momentum: 0.9),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .q3, seed: 1)
    let epochs = try arguments.int("epochs", default: quick ? 5 : 30)
    let history = try trainer.fit(
      train, validation: test, epochs: epochs, batchSize: 32, earlyStopping: .init(patience: 5))
    let predicted = trainer.predict(test.inputs).argmaxRows
    let q3 = Metrics.q3(scores: trainer.predict(test.inputs), labels: test.targets.labels)
    let confusion = Metrics.confusionMatrix(
      predicted: predicted, labels: test.targets.labels, classes: 3)
    for (c, (precision, recall)) in Metrics.precisionAndRecall(confusion: confusion).enumerated() {
      print(
        "\(ProteinSecondaryStructure.classNames[c]): precision \(String(format: "%.3f", precision)), recall \(String(format: "%.3f", recall))"
      )
    }
    print("best epoch: \(history.bestEpoch ?? history.epochs.count)")
    print("Q3: \(String(format: "%.4f", q3))")
    guard q3 > baseline + 0.05 else {
      throw ExampleFailure("Q3 \(q3) is not clearly above the baseline \(baseline)")
    }
  }

  /// A random chain whose classes follow a local rule: a residue is helix where helix
  /// formers (A, E, L, M, Q, K, R) dominate its 7-residue neighbourhood, strand where strand
  /// formers (V, I, Y, F, W, T) do, coil otherwise, with 15% of labels replaced at random.
  /// Stretches of each kind alternate.
  static func synthetic(length: Int, using rng: inout SeededGenerator)
    -> ProteinSecondaryStructure.Protein
  {
    let acids = ProteinSecondaryStructure.aminoAcids
    let helix = Set("AELMQKR")
    let strand = Set("VIYFWT")
    var residues: [Int] = []
    while residues.count < length {
      let kind = Int.random(in: 0..<3, using: &rng)
      let pool = kind == 0 ? Array(helix) : kind == 1 ? Array(strand) : acids
      for _ in 0..<Int.random(in: 4...12, using: &rng) {
        let letter =
          Double.random(in: 0..<1, using: &rng) < 0.75
          ? pool.randomElement(using: &rng)! : acids.randomElement(using: &rng)!
        residues.append(acids.firstIndex(of: letter)!)
      }
    }
    residues = Array(residues.prefix(length))
    let classes = residues.indices.map { i -> Int in
      let window = residues[max(0, i - 3)...min(length - 1, i + 3)].map { acids[$0] }
      let h = window.filter { helix.contains($0) }.count
      let e = window.filter { strand.contains($0) }.count
      let rule = h >= 4 ? 0 : e >= 4 ? 1 : 2
      // 15% of the labels are replaced at random, like noisy assignments in real data.
      return Double.random(in: 0..<1, using: &rng) < 0.15
        ? Int.random(in: 0..<3, using: &rng) : rule
    }
    return .init(residues: residues, classes: classes)
  }
}
