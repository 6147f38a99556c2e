import Autodiff
import Foundation
import NeuralNetworks

/// A character-level causal transformer on tiny-shakespeare, scored in bits per character
/// on the same last 10% of the text as `charlm`, next to the LSTM's score and the 3-gram
/// baseline; sampled, and with the attention weights of one head drawn over a line of text.
enum TransformerExample: Example {
  static let name = "transformer"
  static let summary =
    "character-level causal transformer on tiny-shakespeare vs the LSTM and a 3-gram baseline; full run ≤ 2.55 bits/char"

  /// The LSTM of the `charlm` example on the same split: `swift run -c release examples
  /// charlm`, 6 epochs (1,878 steps of 32 × 100 characters), measured on a 2-core machine.
  static let lstmBitsPerCharacter = 2.289
  static let lstmTrainingSeconds = 271

  static let options: [Option] = [
    .seed,
    .double("temperature", "sampling temperature (default 0.8)"),
    .string("prompt", "text the sample starts from (default \"ROMEO:\\n\")"),
    .int("context", "characters per window (default 128; 32 with --quick)"),
    .int("width", "model width (default 128; 32 with --quick)"),
    .int("layers", "transformer blocks (default 2; 1 with --quick)"),
    .int("steps", "training steps (default 1300; 150 with --quick)"),
    .int("batch", "windows per step (default 32)"),
    .double("rate", "Adam learning rate (default 0.002)"),
    .string("line", "text whose attention is drawn (default \"ROMEO:\\nIs the day so young?\")"),
    .int("head", in: 0...Int.max, "head of the last block whose attention is drawn (default 0)"),
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
    let baseline = CharacterTrigramModel(training, symbols: vocabulary.count)
      .bitsPerSymbol(validation)
    print("3-gram baseline: \(String(format: "%.3f", baseline)) bits per character")

    // The full run: the model of the benchmark workload, a fixed number of steps that fits
    // five minutes of training on two cores. Quick: a small model on a slice of the text.
    let context = try arguments.int("context", default: quick ? 32 : 128)
    let width = try arguments.int("width", default: quick ? 32 : 128)
    let steps = try arguments.int("steps", default: quick ? 150 : 1300)
    let batchSize = try arguments.int("batch", default: 32)
    let trainingSlice = quick ? Array(training.prefix(200_000)) : training
    let validationSlice = quick ? Array(validation.prefix(16_384)) : validation
    // Windows of `context` symbols every `context / 2` symbols: each symbol is read at two
    // offsets per epoch.
    let train = windows(trainingSlice, length: context, stride: context / 2)
    let test = Dataset.nextSymbol(validationSlice, length: context)
    let model = CharacterTransformer(
      vocabularySize: vocabulary.count, contextLength: context, modelSize: width, heads: 4,
      layers: try arguments.int("layers", default: quick ? 1 : 2), feedForwardSize: 4 * width,
      using: &rng)
    print(model)

    let trainer = Trainer(
      model: model,
      optimizer: Adam(
        learningRate: try arguments.double("rate", default: 2e-3),
        epsilonPlacement: .outsideSquareRoot),
      loss: { crossEntropy(logits: $0, labels: $1) }, seed: seed)
    trainer.gradientClipNorm = 1
    // The epochs are reported below in bits per character, with the time.
    trainer.progress = .none
    let stepsPerEpoch = train.count / batchSize
    let epochs = (steps + stepsPerEpoch - 1) / stepsPerEpoch
    let start = Date()
    trainer.callbacks.append { record in
      print(
        "epoch \(record.epoch): training loss \(String(format: "%.3f", record.trainingLoss / Foundation.log(2))) bits per character, \(Int(Date().timeIntervalSince(start))) s"
      )
    }
    let history = try trainer.fit(
      train, epochs: epochs, batchSize: batchSize, dropLast: true, stoppingAfter: steps)
    let seconds = Date().timeIntervalSince(start)
    let trained = trainer.evaluate(test, batchSize: 64).loss / Foundation.log(2)
    print(
      "trained \(steps) steps of \(batchSize) × \(context) characters in \(Int(seconds.rounded())) s (\(Int(Double(steps * batchSize * context) / seconds)) characters per second)"
    )
    print("3-gram baseline: \(String(format: "%.3f", baseline))")
    if !quick {
      print(
        "LSTM (charlm, quoted: 6 epochs, \(lstmTrainingSeconds) s of training on 2 cores): \(String(format: "%.3f", lstmBitsPerCharacter))"
      )
    }
    print("validation bits per character: \(String(format: "%.3f", trained))")
    if !quick {
      print(
        trained > lstmBitsPerCharacter
          ? "on this budget the LSTM wins by \(String(format: "%.3f", trained - lstmBitsPerCharacter)) bits per character"
          : "on this budget the transformer wins")
    }

    var sampler = SeededGenerator(seed: seed &+ 1)
    let sample = model.sample(
      after: try vocabulary.encode(prompt), count: 300, temperature: temperature, using: &sampler)
    print("\nsample at temperature \(temperature):\n\(prompt)\(vocabulary.decode(sample))\n")

    // The attention of one head over a line of the validation text.
    let line = arguments.string("line") ?? "ROMEO:\nIs the day so young?"
    let (layer, head) = (model.blocks.count - 1, try arguments.int("head", default: 0))
    let map = try attentionMap(model, vocabulary, line, layer: layer, head: head)
    print(
      "attention of head \(head) in block \(layer) (row: a position; column: what it reads; shades \" .:-=+*#%@\" by the square root of the weight):"
    )
    print(heatMap(map, labels: Array(line)))

    if let directory = arguments.string("plot") {
      let plots = URL(fileURLWithPath: directory, isDirectory: true)
      // Training loss per finished epoch (a last partial epoch has no record), the validation
      // score after the last step, and the baselines, against characters read.
      let charactersPerEpoch = Double(stepsPerEpoch * batchSize * context)
      let read = Double(steps * batchSize * context)
      try LineChart(
        title: "Character transformer: loss", xAxis: Axis("millions of characters read"),
        yAxis: Axis("bits per character"),
        series: [
          .init(
            "training (epoch mean)",
            x: history.epochs.map { Double($0.epoch) * charactersPerEpoch / 1e6 },
            y: history.epochs.map { $0.trainingLoss / Foundation.log(2) }, showsMarkers: true),
          .init("validation after training", x: [read / 1e6], y: [trained], showsMarkers: true),
          .init(
            "3-gram baseline", x: [0, read / 1e6], y: [baseline, baseline],
            color: Color(hex: "888888"), style: .dashed),
        ]
          + (quick
            ? []
            : [
              .init(
                "LSTM (charlm, quoted)", x: [0, read / 1e6],
                y: [lstmBitsPerCharacter, lstmBitsPerCharacter], color: Color(hex: "444444"),
                style: .dashed)
            ])
      ).write(to: plots.appendingPathComponent("transformer-loss.svg"))
      // Every head of the last block over the line: row i is how position i reads 0…i.
      let heads = try (0..<model.blocks[layer].attention.heads).map { h in
        let weights = try attentionMap(model, vocabulary, line, layer: layer, head: h)
        return PixelGrid.Image(
          pixels: weights.flatMap { $0 }, width: weights.count, height: weights.count,
          caption: "head \(h)")
      }
      try PixelGrid(
        title: "Attention in block \(layer) over \(String(reflecting: line))", images: heads,
        columns: heads.count, colorMap: .ink, range: 0...1, pixelSize: 8
      ).write(to: plots.appendingPathComponent("transformer-attention.svg"))
      print("figures written to \(plots.path)\n")
    }

    let required = quick ? 4.0 : 2.55
    guard trained <= required && (quick || trained < baseline) else {
      throw ExampleFailure(
        "validation bits per character \(trained) is above \(required) or the 3-gram baseline \(baseline)"
      )
    }
  }

  /// Windows of `length` inputs starting every `stride` symbols, each target the next
  /// symbol.
  static func windows(_ symbols: [Int], length: Int, stride: Int) -> Dataset {
    let starts = Array(Swift.stride(from: 0, to: symbols.count - length, by: Swift.max(1, stride)))
    var inputs = [Double](repeating: 0, count: starts.count * length)
    var targets = inputs
    for (w, start) in starts.enumerated() {
      for i in 0..<length {
        inputs[w * length + i] = Double(symbols[start + i])
        targets[w * length + i] = Double(symbols[start + i + 1])
      }
    }
    return Dataset(
      inputs: Tensor(inputs, shape: [starts.count, length], dtype: .float32),
      targets: Tensor(targets, shape: [starts.count, length], dtype: .float32))
  }

  /// The attention weights of head `head` in block `layer` over `line`: entry [i][j] is how
  /// much position i reads position j (0 for j > i). Each row sums to 1.
  static func attentionMap(
    _ model: CharacterTransformer, _ vocabulary: CharacterVocabulary, _ line: String, layer: Int,
    head: Int
  ) throws -> [[Double]] {
    let symbols = try vocabulary.encode(line)
    let input = Var.constant(
      Tensor(symbols.map(Double.init), shape: [1, symbols.count], dtype: .float32))
    let weights = noGrad { model.attentionWeights(input, layer: layer) }.value
    let n = symbols.count
    guard (0..<weights.shape[1]).contains(head) else {
      throw ExampleFailure("--head \(head): the model has heads 0 to \(weights.shape[1] - 1)")
    }
    return (0..<n).map { i in (0..<n).map { j in weights[0, head, i, j] } }
  }

  /// A text picture of a matrix of weights in [0, 1]: one character per entry, darker for
  /// larger (by the square root of the weight, so that weights spread over many positions
  /// still show), each row labelled with its character (and the columns along the top).
  static func heatMap(_ weights: [[Double]], labels: [Character]) -> String {
    let shades = Array(" .:-=+*#%@")
    func show(_ c: Character) -> Character { c == "\n" ? "⏎" : c == " " ? "␣" : c }
    var lines = ["   " + String(labels.map(show))]
    for (i, row) in weights.enumerated() {
      let cells = row.map { w in
        shades[Swift.min(shades.count - 1, Int(w.squareRoot() * Double(shades.count)))]
      }
      lines.append(" \(show(labels[i])) " + String(cells))
    }
    return lines.joined(separator: "\n")
  }
}
