import Autodiff
import Foundation
import NeuralNetworks

/// A variational autoencoder on the embedded 8×8 digits, judged three ways: its test ELBO
/// against the untrained model's, a digits classifier reading its reconstructions, and the
/// same classifier reading images decoded from the prior N(0, I).
enum VAEExample: Example {
  static let name = "vae"
  static let summary =
    "VAE 64 → 128 → 8 on the 8×8 digits: test ELBO, reconstructions, samples from N(0, I)"

  /// What the samples of a decoder must show to count as digits.
  struct SampleCriterion {
    var distinctClasses: Int
    var meanConfidence: Double
  }

  static let options: [Option] = [
    .epochs,
    .seed,
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    let epochs = try arguments.int("epochs", default: quick ? 60 : 400)
    let seed = try arguments.seed(default: 1)
    let requiredImprovement = quick ? 0.3 : 0.4
    let requiredRecognition = quick ? 0.75 : 0.9
    let criterion =
      quick
      ? SampleCriterion(distinctClasses: 7, meanConfidence: 0.6)
      : SampleCriterion(distinctClasses: 8, meanConfidence: 0.7)

    var rng = SeededGenerator(seed: seed)
    let parts = try Datasets.digits().shuffled(using: &rng).split([0.8, 0.2])
    let (train, test) = (parts[0], parts[1])
    print("\(train.count) training and \(test.count) test images, pixels in [0, 1]\n")

    let vae = VAE(
      inputSize: 64, hiddenSize: 128, latentSize: 8, noise: RandomSource(seed: seed),
      using: &rng)
    print(vae)
    // The untrained model's ELBO and samples, before training changes its parameters.
    let untrained = testELBO(vae, test.inputs)
    var priorDraws = SeededGenerator(seed: seed &+ 100)
    let untrainedSamples = vae.generatedImages(count: 100, using: &priorDraws)

    let trainer = Trainer(
      model: vae, optimizer: Adam(learningRate: 1e-3), objective: vae.objective(input:target:),
      seed: seed)
    let history = try trainer.fit(
      Dataset(inputs: train.inputs, targets: train.inputs), epochs: epochs, batchSize: 64)
    print(
      "\ntrained \(epochs) epochs of batches of 64 with Adam (lr 1e-3): training loss "
        + "\(fixed(history.epochs.first!.trainingLoss)) → \(fixed(history.epochs.last!.trainingLoss)) nats per image"
    )
    let trained = testELBO(vae, test.inputs)
    print(
      "untrained test ELBO: \(fixed(-untrained.total)) nats per image "
        + "(reconstruction \(fixed(untrained.reconstruction)) + KL \(fixed(untrained.kl)))")
    print(
      "test ELBO: \(fixed(-trained.total)) nats per image "
        + "(reconstruction \(fixed(trained.reconstruction)) + KL \(fixed(trained.kl)))")
    let improvement = 1 - trained.total / untrained.total
    print(
      "the negative ELBO is \(percent(improvement)) lower than the untrained model's "
        + "(required: at least \(percent(requiredImprovement)))\n")

    let classifier = try trainedClassifier(train: train, test: test, quick: quick, seed: seed)

    vae.isTraining = false  // reconstructions of the mean code z = μ
    let reconstructions = noGrad { vae(Var.constant(test.inputs)).value }
    let labels = test.targets.labels
    let readLabels = classify(classifier, reconstructions).classes
    let recognized =
      Double(zip(readLabels, labels).filter { $0 == $1 }.count) / Double(labels.count)
    print(
      "the classifier labels \(percent(recognized)) of the test reconstructions with their own "
        + "digit (required: at least \(percent(requiredRecognition)))")
    print("test images (top) and their reconstructions (bottom):")
    let shown = Array(0..<8)
    print(asciiGrid(test.inputs, rows: [shown]))
    print(asciiGrid(reconstructions, rows: [shown]))

    var draws = SeededGenerator(seed: seed &+ 100)  // the same codes as the untrained samples
    let samples = vae.generatedImages(count: 100, using: &draws)
    print("16 images decoded from codes drawn from N(0, I):")
    print(asciiGrid(samples, rows: (0..<4).map { r in Array((r * 4)..<(r * 4 + 4)) }))
    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      try LineChart(
        title: "VAE: training loss (negative ELBO, nats per image)", xAxis: Axis("epoch"),
        yAxis: Axis("nats per image"),
        series: [.init("training", y: history.epochs.map(\.trainingLoss))]
      ).write(to: plots.appendingPathComponent("vae-loss.svg"))
      try PixelGrid(
        title: "Images decoded from z ~ N(0, I)",
        rows: Tensor(Array(samples.scalars.prefix(40 * 64)), shape: [40, 64]),
        imageHeight: 8, imageWidth: 8, columns: 10, range: 0...1, pixelSize: 6
      ).write(to: plots.appendingPathComponent("vae-samples.svg"))
      let shownRows = Array(0..<10)
      try PixelGrid(
        title: "Test digits (top) and their reconstructions (bottom)",
        images: [test.inputs, reconstructions].flatMap { t in
          shownRows.map { PixelGrid.Image(pixels: t.rowScalars[$0], width: 8, height: 8) }
        }, columns: 10, range: 0...1, pixelSize: 6
      ).write(to: plots.appendingPathComponent("vae-reconstructions.svg"))
      print("figures written to \(plots.path)")
    }
    let trainedVerdict = judge(classifier, samples, criterion)
    let untrainedVerdict = judge(classifier, untrainedSamples, criterion)
    print("100 samples of the trained decoder: \(trainedVerdict.text)")
    print("100 samples of the untrained decoder: \(untrainedVerdict.text)")

    guard improvement >= requiredImprovement else {
      throw ExampleFailure(
        "the test ELBO improved by \(percent(improvement)), less than \(percent(requiredImprovement))"
      )
    }
    guard recognized >= requiredRecognition else {
      throw ExampleFailure(
        "\(percent(recognized)) of the reconstructions are recognized, below \(percent(requiredRecognition))"
      )
    }
    guard trainedVerdict.passed else {
      throw ExampleFailure("the trained decoder's samples do not pass as digits")
    }
    guard !untrainedVerdict.passed else {
      throw ExampleFailure("the untrained decoder's samples pass as digits: the check is too weak")
    }
    print(
      "\nthe trained VAE's samples pass as digits (at least \(criterion.distinctClasses) classes, "
        + "mean confidence at least \(fixed(criterion.meanConfidence))); the untrained one's do not"
    )
  }

  /// The reconstruction and KL terms and their sum (the negative ELBO), in nats per image,
  /// averaged over several draws of the noise: the loss graph is built once and each
  /// evaluation draws a fresh ε.
  static func testELBO(_ vae: VAE, _ images: Tensor, draws: Int = 10) -> (
    reconstruction: Double, kl: Double, total: Double
  ) {
    let x = Var.constant(images)
    let terms = vae.lossTerms(input: x, target: x)
    var (reconstruction, kl) = (0.0, 0.0)
    for draw in 0..<draws {
      if draw > 0 { terms.loss.evaluate() }
      reconstruction += terms.reconstruction.value.scalar / Double(draws)
      kl += terms.klDivergence.value.scalar / Double(draws)
    }
    return (reconstruction, kl, reconstruction + kl)
  }

  /// An MLP 64 → 128 → 10 trained on the training images by the same driver.
  static func trainedClassifier(train: Dataset, test: Dataset, quick: Bool, seed: UInt64)
    throws -> Module
  {
    var rng = SeededGenerator(seed: seed &+ 1)
    let classifier = Sequential(
      Linear(inputSize: 64, outputSize: 128, initialization: .he, using: &rng), Activation(.relu),
      Linear(inputSize: 128, outputSize: 10, using: &rng))
    let trainer = Trainer(
      model: classifier, optimizer: Adam(learningRate: 2e-3),
      loss: { crossEntropy(logits: $0, labels: $1) }, metric: .accuracy, seed: seed)
    let epochs = quick ? 15 : 40
    try trainer.fit(train, epochs: epochs, batchSize: 32)
    let accuracy = trainer.evaluate(test).metric!
    print(
      "digits classifier (MLP 64 → 128 → 10, \(epochs) epochs): test accuracy \(percent(accuracy))")
    return classifier
  }

  /// The classifier's most likely class and its probability for each image.
  static func classify(_ classifier: Module, _ images: Tensor) -> (
    classes: [Int], confidences: [Double]
  ) {
    classifier.isTraining = false
    let probabilities = noGrad { classifier(Var.constant(images)).softmax().value }
    let classes = probabilities.argmaxRows
    let confidences = classes.enumerated().map { probabilities[$0.offset, $0.element] }
    return (classes, confidences)
  }

  /// Whether samples pass as digits: enough distinct classes, confidently assigned.
  static func judge(_ classifier: Module, _ samples: Tensor, _ criterion: SampleCriterion) -> (
    passed: Bool, text: String
  ) {
    let (classes, confidences) = classify(classifier, samples)
    var counts = [Int](repeating: 0, count: 10)
    for c in classes { counts[c] += 1 }
    let distinct = counts.filter { $0 > 0 }.count
    let confidence = confidences.reduce(0, +) / Double(confidences.count)
    let passed =
      distinct >= criterion.distinctClasses && confidence >= criterion.meanConfidence
    let text =
      "\(distinct) distinct classes (counts 0–9: \(counts.map(String.init).joined(separator: " "))), "
      + "mean confidence \(fixed(confidence)): \(passed ? "digits" : "not digits")"
    return (passed, text)
  }

  /// Images of 8×8 pixels in [0, 1] as text, one glyph per image, each pixel two characters
  /// wide; `rows` lists the images of each line of glyphs.
  static func asciiGrid(_ images: Tensor, rows: [[Int]]) -> String {
    let shades = Array(" .:-=+*#%@")
    var lines: [String] = []
    for row in rows {
      for y in 0..<8 {
        let glyphs = row.map { image in
          (0..<8).map { x -> String in
            let p = min(max(images[image, y * 8 + x], 0), 1)
            let shade = shades[min(Int(p * Double(shades.count)), shades.count - 1)]
            return String(repeating: shade, count: 2)
          }.joined()
        }
        lines.append("  " + glyphs.joined(separator: "  "))
      }
      lines.append("")
    }
    return lines.joined(separator: "\n")
  }

  static func fixed(_ x: Double) -> String { String(format: "%.2f", x) }
  static func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
}
