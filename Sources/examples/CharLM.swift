import Autodiff
import Foundation
import NeuralNetworks

/// A character-level LSTM language model on tiny-shakespeare, scored in bits per character
/// on the last 10% of the text next to a smoothed 3-gram model, and sampled.
enum CharLMExample: Example {
  static let name = "charlm"
  static let summary =
    "character-level LSTM on tiny-shakespeare vs a 3-gram baseline; full run ≤ 2.3 bits/char"

  static let options: [Option] = [
    .seed,
    .double("temperature", "sampling temperature (default 0.8)"),
    .string("prompt", "text the sample starts from (default \"ROMEO:\\n\")"),
    .int("hidden", "LSTM state size (default 256; 64 with --quick)"),
    .int("length", "characters per training sequence (default 100)"),
    .epochs,
    .double("rate", "Adam learning rate (default 0.002)"),
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    let seed = try arguments.seed(default: 1)
    let temperature = try arguments.double("temperature", default: 0.8)
    let prompt = arguments.string("prompt") ?? "ROMEO:\n"
    var rng = SeededGenerator(seed: seed)

    let text = try Datasets.tinyShakespeare()
    let vocabulary = CharacterVocabulary(text)
    let symbols = try vocabulary.encode(text)
    let split = symbols.count * 9 / 10
    let (training, validation) = (Array(symbols[..<split]), Array(symbols[split...]))
    print(
      "\(symbols.count) characters, \(vocabulary.count) symbols: \(training.count) for training, \(validation.count) for validation"
    )

    // The baseline: an interpolated 3-gram model, its weights chosen on the end of the
    // training part, scored on the validation part.
    let trigram = CharacterTrigramModel(training, symbols: vocabulary.count)
    let baseline = trigram.bitsPerSymbol(validation)
    print("3-gram baseline: \(String(format: "%.3f", baseline)) bits per character")

    // Quick: a small model on a slice of the text, to check that the pipeline learns.
    let hiddenSize = try arguments.int("hidden", default: quick ? 64 : 256)
    let length = try arguments.int("length", default: 100)
    let epochs = try arguments.int("epochs", default: quick ? 1 : 6)
    let trainingSlice = quick ? Array(training.prefix(256_000)) : training
    let validationSlice = quick ? Array(validation.prefix(12_800)) : validation
    let train = Dataset.nextSymbol(trainingSlice, length: length)
    let test = Dataset.nextSymbol(validationSlice, length: length)
    let model = CharacterLanguageModel(
      vocabularySize: vocabulary.count, embeddingSize: 64, hiddenSize: hiddenSize, using: &rng)
    print(model)
    let trainer = Trainer(
      model: model,
      optimizer: Adam(
        learningRate: try arguments.double("rate", default: 2e-3),
        epsilonPlacement: .outsideSquareRoot),
      loss: { crossEntropy(logits: $0, labels: $1) }, seed: seed)
    trainer.gradientClipNorm = 5
    let start = Date()
    let history = try trainer.fit(train, epochs: epochs, batchSize: 32, dropLast: true)
    let seconds = Date().timeIntervalSince(start)
    let trained = trainer.evaluate(test, batchSize: 64).loss / Foundation.log(2)
    print(
      "trained \(history.epochs.count) epochs of \(train.count / 32) steps in \(Int(seconds.rounded())) s (\(Int(Double(history.epochs.count * (train.count / 32) * 32 * length) / seconds)) characters per second)"
    )
    print("3-gram baseline: \(String(format: "%.3f", baseline))")
    print("validation bits per character: \(String(format: "%.3f", trained))")

    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      let bits = history.epochs.map { $0.trainingLoss / Foundation.log(2) }
      try LineChart(
        title: "Character model: training loss per epoch", xAxis: Axis("epoch"),
        yAxis: Axis("bits per character"),
        series: [
          .init(
            "training", x: history.epochs.map { Double($0.epoch) }, y: bits, showsMarkers: true),
          .init(
            "validation after training", x: [Double(history.epochs.count)], y: [trained],
            showsMarkers: true),
          .init(
            "3-gram baseline", x: [1, Double(max(history.epochs.count, 2))],
            y: [baseline, baseline],
            color: Color(hex: "888888"), style: .dashed),
        ]
      ).write(to: plots.appendingPathComponent("charlm-loss.svg"))
      print("figures written to \(plots.path)")
    }
    var sampler = SeededGenerator(seed: seed &+ 1)
    let sample = model.sample(
      after: try vocabulary.encode(prompt), count: 300, temperature: temperature, using: &sampler)
    print("\nsample at temperature \(temperature):\n\(prompt)\(vocabulary.decode(sample))\n")

    let required = quick ? 4.0 : 2.3
    guard trained <= required else {
      throw ExampleFailure("validation bits per character \(trained) is above \(required)")
    }
  }
}

/// A character 3-gram model with linear interpolation:
/// P(c | a b) = λ₃ P(c | a b) + λ₂ P(c | b) + λ₁ P(c) + λ₀ / V, each P counted on the
/// training symbols. The λ are chosen from a small grid on the last 10% of the training
/// symbols, counted on the rest; the model is then counted on all of them.
struct CharacterTrigramModel {
  let symbols: Int
  private(set) var weights = (trigram: 0.5, bigram: 0.3, unigram: 0.19, uniform: 0.01)
  private var unigrams: [Double] = []
  private var bigrams: [Double] = []
  private var trigrams: [Double] = []
  private var bigramContexts: [Double] = []
  private var trigramContexts: [Double] = []

  init(_ text: [Int], symbols: Int) {
    self.symbols = symbols
    let held = text.count * 9 / 10
    count(text[..<held])
    var best = (bits: Double.infinity, weights: weights)
    for trigram in stride(from: 0.3, through: 0.8, by: 0.05) {
      for bigram in stride(from: 0.05, through: 0.5, by: 0.05) where trigram + bigram < 0.98 {
        weights = (trigram, bigram, 0.99 - trigram - bigram, 0.01)
        let bits = bitsPerSymbol(Array(text[held...]))
        if bits < best.bits { best = (bits, weights) }
      }
    }
    count(text[...])
    weights = best.weights
  }

  private mutating func count(_ text: ArraySlice<Int>) {
    let v = symbols
    unigrams = [Double](repeating: 0, count: v)
    bigrams = [Double](repeating: 0, count: v * v)
    trigrams = [Double](repeating: 0, count: v * v * v)
    bigramContexts = [Double](repeating: 0, count: v)
    trigramContexts = [Double](repeating: 0, count: v * v)
    let text = Array(text)
    for i in 0..<text.count {
      unigrams[text[i]] += 1
      if i >= 1 {
        bigrams[text[i - 1] * v + text[i]] += 1
        bigramContexts[text[i - 1]] += 1
      }
      if i >= 2 {
        trigrams[(text[i - 2] * v + text[i - 1]) * v + text[i]] += 1
        trigramContexts[text[i - 2] * v + text[i - 1]] += 1
      }
    }
  }

  /// The mean of −log₂ P(symbol | the two before it) over `text`, from its third symbol.
  func bitsPerSymbol(_ text: [Int]) -> Double {
    let v = symbols
    let total = unigrams.reduce(0, +)
    var sum = 0.0
    for i in 2..<text.count {
      let (a, b, c) = (text[i - 2], text[i - 1], text[i])
      let ab = trigramContexts[a * v + b]
      let p3 = ab > 0 ? trigrams[(a * v + b) * v + c] / ab : 0
      let p2 = bigramContexts[b] > 0 ? bigrams[b * v + c] / bigramContexts[b] : 0
      let p =
        weights.trigram * p3 + weights.bigram * p2 + weights.unigram * unigrams[c] / total
        + weights.uniform / Double(v)
      sum -= Foundation.log2(p)
    }
    return sum / Double(text.count - 2)
  }
}
