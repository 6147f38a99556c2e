import Autodiff
import Foundation
import NeuralNetworks

extension Benchmarks {
  /// One training step of the causal character transformer: 65 symbols → Embedding 128 plus
  /// learned positions, 2 pre-norm blocks (4 heads, MLP 512, ReLU), LayerNorm, Linear 65 at
  /// every position; context 128, batch 32, Adam 1e-3, clipping at norm 1.
  static func transformer(_ options: Options) throws {
    try transformer(options, fused: true)
  }

  /// The same step with the attention composed from engine ops (heads split off by a
  /// permute, batched products, causal softmax) instead of the fused op.
  static func transformerComposed(_ options: Options) throws {
    try transformer(options, fused: false)
  }

  static func transformer(_ options: Options, fused: Bool) throws {
    let (symbols, length, batch) = (65, options.sequence ?? 128, options.batch ?? 32)
    var rng = SeededGenerator(seed: 1)
    let model = CharacterTransformer(
      vocabularySize: symbols, contextLength: length, modelSize: 128, heads: 4, layers: 2,
      feedForwardSize: 512, dtype: .float32, using: &rng)
    for block in model.blocks { block.attention.isFused = fused }
    let text = (0..<(batch * length + 1)).map { _ in Int.random(in: 0..<symbols, using: &rng) }
    let data = Dataset.nextSymbol(text, length: length, dtype: .float32)
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 1e-3, epsilonPlacement: .outsideSquareRoot),
      loss: { crossEntropy(logits: $0, labels: $1) })
    trainer.gradientClipNorm = 1
    let first = try trainer.step(on: data).loss
    var last = first
    let (w, t) = options.quick ? (1, 2) : (3, 20)
    let seconds = try median(warmup: w, timed: t) { last = try trainer.step(on: data).loss }
    stepReport(
      fused ? "transformer" : "transformer-composed", seconds: seconds, threads: options.threads,
      dtype: .float32, reps: t,
      firstLoss: first, lastLoss: last,
      extra: [
        ("batch", batch), ("sequence", length),
        ("chars_per_s", Double(batch * length) / seconds),
      ])
  }
}
