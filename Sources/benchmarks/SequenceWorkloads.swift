import Autodiff
import Foundation
import NeuralNetworks

extension Benchmarks {
  /// The library's LSTM over 28 steps of 28 inputs, its last hidden state → Linear 10 →
  /// cross-entropy, Adam, one training step by the Trainer.
  static func lstm(_ options: Options) throws {
    let (input, hidden) = (28, 128)
    let (steps, batch) = (options.sequence ?? 28, options.batch ?? 32)
    var rng = SeededGenerator(seed: 1)
    let model = Sequential(
      LSTM(inputSize: input, hiddenSize: hidden, using: &rng), LastStep(),
      Linear(inputSize: hidden, outputSize: 10, using: &rng))
    let labels = (0..<batch).map { _ in Double(Int.random(in: 0..<10, using: &rng)) }
    let data = Dataset(
      inputs: Tensor.normal([batch, steps, input], dtype: .float32, using: &rng),
      targets: Tensor(labels, dtype: .float32))
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 1e-3, epsilonPlacement: .outsideSquareRoot),
      loss: { crossEntropy(logits: $0, labels: $1) })
    let first = try trainer.step(on: data).loss
    var last = first
    let (w, t) = options.quick ? (1, 3) : (5, 50)
    let seconds = try median(warmup: w, timed: t) { last = try trainer.step(on: data).loss }
    stepReport(
      "lstm", seconds: seconds, threads: options.threads, dtype: .float32, reps: t,
      firstLoss: first, lastLoss: last, extra: [("batch", batch), ("sequence", steps)])
  }

  /// One training step of the character model: 65 symbols → Embedding 64 → LSTM 256 →
  /// Linear 65 at every step, sequences of 100, batch 32, Adam 2e-3, clipping at norm 5.
  static func charLM(_ options: Options) throws {
    let (symbols, length, batch) = (65, options.sequence ?? 100, options.batch ?? 32)
    var rng = SeededGenerator(seed: 1)
    let model = CharacterLanguageModel(vocabularySize: symbols, using: &rng)
    let text = (0..<(batch * length + 1)).map { _ in Int.random(in: 0..<symbols, using: &rng) }
    let data = Dataset.nextSymbol(text, length: length)
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 2e-3, epsilonPlacement: .outsideSquareRoot),
      loss: { crossEntropy(logits: $0, labels: $1) })
    trainer.gradientClipNorm = 5
    let first = try trainer.step(on: data).loss
    var last = first
    let (w, t) = options.quick ? (1, 2) : (5, 50)
    let seconds = try median(warmup: w, timed: t) { last = try trainer.step(on: data).loss }
    stepReport(
      "charlm", seconds: seconds, threads: options.threads, dtype: .float32, reps: t,
      firstLoss: first, lastLoss: last,
      extra: [
        ("batch", batch), ("sequence", length),
        ("chars_per_s", Double(batch * length) / seconds),
      ])
  }
}
