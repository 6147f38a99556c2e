import Autodiff
import Foundation
import NeuralNetworks

/// The Qian–Sejnowski secondary-structure network on the UCI data: a window of 13 residues,
/// each one-hot over 21 symbols (273 inputs), 40 sigmoid hidden units, 3 softmax outputs,
/// trained with cross-entropy.
///
/// Everything is chosen on the training file alone. Each seed holds out 22 of its 111
/// proteins, whole, as a validation split; the network trains on the other 89 with SGD
/// (learning rate 0.1, momentum 0.9, batches of 32, cosine decay over 30 epochs) and keeps
/// the epoch of lowest validation loss (early stopping, patience 10). The claim is the mean
/// validation Q3 over five seeds: at least 0.60. With `--data DIR`, the models are then
/// scored once on `DIR`'s test file, which nothing was chosen on.
enum ProteinExample: Example {
  static let name = "protein"
  static let summary =
    "Qian–Sejnowski MLP for protein secondary structure on the UCI data (--data DIR adds the test file)"

  /// How many of the 111 training proteins each seed holds out for validation (20%).
  static let validationProteins = 22

  static let options: [Option] = [
    .seed,
    .int("seeds", in: 1...10_000, "number of seeds from --seed on (default 5)"),
    .epochs,
    .double("lr", "learning rate (default 0.1)"),
    .string("data", placeholder: "DIR", "folder with the UCI test file to score the models on"),
  ]

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    let firstSeed = try arguments.int("seed", default: 1)
    let seeds = try arguments.int("seeds", default: quick ? 1 : 5)
    let epochs = try arguments.int("epochs", default: quick ? 3 : 30)
    let learningRate = try arguments.double("lr", default: 0.1)
    guard (1...10_000).contains(seeds), (0...(Int.max - seeds)).contains(firstSeed), epochs >= 1,
      learningRate > 0
    else {
      throw UsageError(
        "expected --seed 0 or more, --seeds from 1 to 10000, --epochs 1 or more and a positive --lr"
      )
    }

    let training: ProteinSecondaryStructure
    var test: Dataset?
    if let directory = arguments.string("data") {
      let files = try ProteinSecondaryStructure.readUCIFiles(in: URL(fileURLWithPath: directory))
      (training, test) = (files.training, files.test.windows())
      print("UCI files in \(directory):")
      print("  training: \(training.proteins.count) proteins, \(training.residueCount) residues")
      print(
        "  test:     \(files.test.proteins.count) proteins, \(files.test.residueCount) residues")
    } else {
      training = try Datasets.proteinSecondaryStructureTraining()
      print(
        "UCI training file (shipped): \(training.proteins.count) proteins, \(training.residueCount) residues"
      )
    }
    guard training.proteins.count > validationProteins else {
      throw ExampleFailure(
        "the training file has \(training.proteins.count) proteins; at least \(validationProteins + 1) are needed to hold out \(validationProteins) for validation"
      )
    }
    print(
      "each seed: \(training.proteins.count - validationProteins) proteins to train on, \(validationProteins) held out for validation; \(epochs) epochs at most"
    )

    var validationScores: [Double] = []
    var validationConfusion = Array(repeating: Array(repeating: 0, count: 3), count: 3)
    var testScores: [Double] = []
    var testConfusion = validationConfusion
    for seed in firstSeed..<(firstSeed + seeds) {
      let start = Date()
      var rng = SeededGenerator(seed: UInt64(seed))
      let (kept, heldOut) = training.split(holdingOut: validationProteins, using: &rng)
      let validation = heldOut.windows()
      let trainer = self.trainer(
        learningRate: learningRate, epochs: epochs, seed: UInt64(seed), using: &rng)
      if seed == firstSeed { print(trainer.model) }
      let history = try trainer.fit(
        kept.windows(), validation: validation, epochs: epochs, batchSize: 32,
        earlyStopping: .init(patience: 10))
      let (q3, confusion) = score(trainer, on: validation)
      validationScores.append(q3)
      add(confusion, to: &validationConfusion)
      var line =
        "seed \(seed): validation Q3 \(format(q3)) at epoch \(history.bestEpoch ?? epochs) of \(history.epochs.count)"
      if let test {
        let (q3, confusion) = score(trainer, on: test)
        testScores.append(q3)
        add(confusion, to: &testConfusion)
        line += ", test Q3 \(format(q3))"
      }
      print(line + String(format: " (%.1f s)", Date().timeIntervalSince(start)))
    }

    let (mean, spread) = meanAndStandardDeviation(validationScores)
    let coil = majorityFraction(validationConfusion)
    printRecall("validation", validationConfusion)
    print(describe(seeds: seeds, spread: spread, coil: coil))
    print("validation Q3: \(format(mean))")

    // The claim, on validation: three epochs reach about 0.63 (0.60 to 0.66 over 20 seeds),
    // thirty about 0.64.
    let threshold = quick ? 0.58 : 0.60
    var failures: [String] = []
    if mean < threshold || mean <= coil {
      failures.append(
        "validation Q3 \(format(mean)) is not at least \(threshold) and above always predicting coil (\(format(coil)))"
      )
    }
    if !testScores.isEmpty {
      let (testMean, testSpread) = meanAndStandardDeviation(testScores)
      let testCoil = majorityFraction(testConfusion)
      printRecall("test", testConfusion)
      // Nothing was chosen on the test file; the only claim there is that the network
      // predicts more than the majority class.
      if testMean <= testCoil {
        failures.append(
          "test Q3 \(format(testMean)) is not above always predicting coil (\(format(testCoil)))")
      }
      print(describe(seeds: seeds, spread: testSpread, coil: testCoil))
      print("Q3: \(format(testMean))")
    }
    if !failures.isEmpty { throw ExampleFailure(failures.joined(separator: "; ")) }
  }

  /// The network and its training settings, as chosen on validation splits.
  static func trainer(
    learningRate: Double, epochs: Int, seed: UInt64, using rng: inout SeededGenerator
  ) -> Trainer {
    let model = MLP(sizes: [13 * 21, 40, 3], activation: .sigmoid, using: &rng)
    let trainer = Trainer(
      model: model, optimizer: SGD(learningRate: learningRate, momentum: 0.9),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .q3, seed: seed)
    trainer.schedule = CosineDecay(totalSteps: epochs)
    return trainer
  }

  /// Q3 and the confusion matrix of the trainer's model on a dataset.
  static func score(_ trainer: Trainer, on data: Dataset) -> (q3: Double, confusion: [[Int]]) {
    let scores = trainer.predict(data.inputs)
    let labels = data.targets.labels
    return (
      Metrics.q3(scores: scores, labels: labels),
      Metrics.confusionMatrix(predicted: scores.argmaxRows, labels: labels, classes: 3)
    )
  }

  static func add(_ confusion: [[Int]], to total: inout [[Int]]) {
    for i in 0..<3 { for j in 0..<3 { total[i][j] += confusion[i][j] } }
  }

  /// The fraction of residues in the most common class (coil).
  static func majorityFraction(_ confusion: [[Int]]) -> Double {
    let counts = confusion.map { $0.reduce(0, +) }
    return Double(counts.max()!) / Double(max(counts.reduce(0, +), 1))
  }

  static func printRecall(_ name: String, _ confusion: [[Int]]) {
    let classes = Metrics.precisionAndRecall(confusion: confusion).enumerated().map { c, pr in
      "\(ProteinSecondaryStructure.classNames[c]) \(format(pr.recall, digits: 2))/\(format(pr.precision, digits: 2))"
    }
    print("\(name) recall/precision: " + classes.joined(separator: ", "))
  }

  /// What a Q3 line reports: over how many seeds, their spread and the majority baseline.
  static func describe(seeds: Int, spread: Double, coil: Double) -> String {
    (seeds > 1 ? "mean of \(seeds) seeds, standard deviation \(format(spread)); " : "one seed; ")
      + "always predicting coil would score \(format(coil))"
  }

  /// The mean and the sample standard deviation (0 for one value).
  static func meanAndStandardDeviation(_ values: [Double]) -> (Double, Double) {
    let mean = values.reduce(0, +) / Double(values.count)
    let squares = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
    return (mean, values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : 0)
  }

  static func format(_ x: Double, digits: Int = 4) -> String {
    String(format: "%.\(digits)f", x)
  }
}
