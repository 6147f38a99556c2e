import Autodiff
import Foundation
import NeuralNetworks
import Testing

/// What attention is: averages with weights that sum to 1, blind to order without
/// positions, blind to the future with the causal mask, and the modern Hopfield update.
@Suite("Attention layers and the transformer")
struct TransformerTests {
  static func attentionLayer(
    size: Int = 8, heads: Int = 2, causal: Bool = false, seed: UInt64 = 1
  ) -> MultiHeadAttention {
    var rng = SeededGenerator(seed: seed)
    let layer = MultiHeadAttention(
      modelSize: size, heads: heads, causal: causal, dtype: .float64, using: &rng)
    // Nonzero biases, so that the tests cover them.
    for p in layer.parameters where p.rank == 1 {
      p.updateValue {
        $0 = Tensor.normal($0.shape, standardDeviation: 0.1, dtype: .float64, using: &rng)
      }
    }
    return layer
  }

  @Test(arguments: [false, true])
  func theWeightsOfEveryQuerySumToOne(causal: Bool) {
    var rng = SeededGenerator(seed: 2)
    let layer = Self.attentionLayer(heads: 4, causal: causal)
    let x = Var(Tensor.normal([3, 6, 8], dtype: .float64, using: &rng))
    let weights = layer.weights(x).value
    #expect(weights.shape == [3, 4, 6, 6])
    for row in 0..<(3 * 4 * 6) {
      let entries = (0..<6).map { weights[flat: row * 6 + $0] }
      #expect(abs(entries.reduce(0, +) - 1) < 1e-12)
      #expect(entries.allSatisfy { $0 >= 0 })
      if causal {
        let query = row % 6
        #expect(entries[(query + 1)...].allSatisfy { $0 == 0 })
      }
    }
  }

  /// Attention without positional information treats its inputs as a set: permuting the
  /// positions of the input permutes the output's the same way.
  @Test func withoutPositionsPermutingTheInputsPermutesTheOutputs() {
    var rng = SeededGenerator(seed: 3)
    let block = TransformerBlock(
      modelSize: 8, heads: 2, feedForwardSize: 16, dtype: .float64, using: &rng)
    let x = Tensor.normal([2, 5, 8], dtype: .float64, using: &rng)
    let permutation = [3, 0, 4, 1, 2]
    var permuted = x
    for b in 0..<2 {
      for (i, source) in permutation.enumerated() {
        for j in 0..<8 { permuted[b, i, j] = x[b, source, j] }
      }
    }
    for layer in [Self.attentionLayer() as Module, block] {
      let y = noGrad { layer(Var.constant(x)).value }
      let yPermuted = noGrad { layer(Var.constant(permuted)).value }
      for b in 0..<2 {
        for (i, source) in permutation.enumerated() {
          for j in 0..<8 { #expect(abs(yPermuted[b, i, j] - y[b, source, j]) < 1e-12) }
        }
      }
    }
    // With positions added, order matters.
    let encoding = SinusoidalPositionalEncoding(maxLength: 5, modelSize: 8, dtype: .float64)
    let withPositions = Sequential(encoding, block)
    let y = noGrad { withPositions(Var.constant(x)).value }
    let yPermuted = noGrad { withPositions(Var.constant(permuted)).value }
    #expect(abs(yPermuted[0, 0, 0] - y[0, 3, 0]) > 1e-6)
  }

  /// With the causal mask, the output at step t has zero gradient with respect to every
  /// input after t, through a whole block and a whole model.
  @Test func causalOutputsHaveNoGradientFromTheFuture() {
    var rng = SeededGenerator(seed: 4)
    let block = TransformerBlock(
      modelSize: 8, heads: 2, feedForwardSize: 16, causal: true, dtype: .float64, using: &rng)
    let x = Var(Tensor.normal([2, 6, 8], dtype: .float64, using: &rng))
    for layer in [Self.attentionLayer(causal: true) as Module, block] {
      let y = layer(x)
      for t in 0..<6 {
        x.grad = nil
        var seed = Tensor.zeros(y.shape, dtype: .float64)
        for b in 0..<2 { for j in 0..<8 { seed[b, t, j] = Double(j + 1) } }
        y.backward(seed)
        for b in 0..<2 {
          for later in (t + 1)..<6 { for j in 0..<8 { #expect(x.grad![b, later, j] == 0) } }
          #expect((0..<8).contains { x.grad![b, t, $0] != 0 })
        }
      }
    }
  }

  /// One head whose projections are the identity, with β = 1/√d, is one update of a modern
  /// Hopfield network whose stored patterns are the keys and values.
  @Test func oneHeadWithIdentityProjectionsIsTheModernHopfieldUpdate() {
    var rng = SeededGenerator(seed: 5)
    let d = 6
    let patterns = Tensor.normal([10, d], dtype: .float64, using: &rng)
    let states = Tensor.normal([4, d], dtype: .float64, using: &rng)
    let layer = MultiHeadAttention(modelSize: d, heads: 1, dtype: .float64, using: &rng)
    var identity = Tensor.zeros([d, d], dtype: .float64)
    for i in 0..<d { identity[i, i] = 1 }
    for projection in layer.children.compactMap({ $0 as? Linear }) {
      projection.weight.set(identity)
      projection.bias!.set(Tensor.zeros([d], dtype: .float64))
    }
    let hopfield = ModernHopfield(storing: patterns, beta: 1 / Double(d).squareRoot())
    let viaAttention = layer(Var.constant(states), context: Var.constant(patterns)).value
    let viaHopfield = hopfield(Var.constant(states)).value
    for i in 0..<viaAttention.count {
      #expect(abs(viaAttention[flat: i] - viaHopfield[flat: i]) < 1e-12)
    }
    let weights = layer.weights(Var.constant(states), context: Var.constant(patterns)).value
    let associations = hopfield.associations(Var.constant(states)).value
    #expect(weights.shape == [1, 4, 10])
    for i in 0..<associations.count {
      #expect(abs(weights[flat: i] - associations[flat: i]) < 1e-12)
    }
  }

  @Test func sinusoidalCodes() {
    let encoding = SinusoidalPositionalEncoding(maxLength: 50, modelSize: 8, dtype: .float64)
    let table = encoding.table
    for p in [0, 1, 7, 49] {
      #expect(abs(table[p, 0] - Foundation.sin(Double(p))) < 1e-12)
      #expect(abs(table[p, 1] - Foundation.cos(Double(p))) < 1e-12)
      #expect(abs(table[p, 6] - Foundation.sin(Double(p) / 1000)) < 1e-12)  // 10000^(6/8)
      let norm = (0..<8).map { table[p, $0] * table[p, $0] }.reduce(0, +)
      #expect(abs(norm - 4) < 1e-12)
    }
    let x = Var(Tensor.zeros([2, 3, 8], dtype: .float64))
    #expect(encoding(x).value[1, 2, 3] == table[2, 3])
    #expect(encoding.parameterCount == 0)
  }

  @Test func learnedPositionsGetTheGradientOfTheirPositions() {
    var rng = SeededGenerator(seed: 6)
    let encoding = LearnedPositionalEncoding(
      maxLength: 5, modelSize: 3, dtype: .float64, using: &rng)
    let x = Var(Tensor.normal([2, 4, 3], dtype: .float64, using: &rng))
    encoding(x).sum().backward()
    for p in 0..<5 {
      for j in 0..<3 { #expect(encoding.table.grad![p, j] == (p < 4 ? 2 : 0)) }
    }
  }

  @Test func gradientChecksOfTinyInstances() {
    var rng = SeededGenerator(seed: 7)
    let x = Var(Tensor.normal([2, 3, 4], dtype: .float64, using: &rng), name: "x")
    let context = Var(Tensor.normal([2, 5, 4], dtype: .float64, using: &rng), name: "c")
    let attention = Self.attentionLayer(size: 4, heads: 2)
    let causal = Self.attentionLayer(size: 4, heads: 2, causal: true)
    let block = TransformerBlock(
      modelSize: 4, heads: 2, feedForwardSize: 6, causal: true, dtype: .float64, using: &rng)
    let positions = LearnedPositionalEncoding(
      maxLength: 4, modelSize: 4, standardDeviation: 1, dtype: .float64, using: &rng)
    let cases: [(String, Var, [Var])] = [
      ("self-attention", attention(x), [x] + attention.parameters),
      ("cross-attention", attention(x, context: context), [x, context] + attention.parameters),
      ("causal attention", causal(x), [x] + causal.parameters),
      ("weights", causal.weights(x), [x] + causal.parameters),
      ("transformer block", block(positions(x)), [x] + block.parameters + positions.parameters),
    ]
    for (name, output, leaves) in cases {
      let result = GradientCheck.check(
        output, withRespectTo: leaves, name: name, secondOrder: name != "transformer block")
      #expect(result.passed, "\(result)")
    }
  }

  @Test func characterTransformerShapesAndParameters() {
    var rng = SeededGenerator(seed: 8)
    let model = CharacterTransformer(
      vocabularySize: 65, contextLength: 128, modelSize: 128, heads: 4, layers: 2,
      feedForwardSize: 512, using: &rng)
    // Embedding and positions, per block 2 LayerNorms, 4 projections and the MLP, then the
    // final LayerNorm and the readout.
    let block = 2 * 256 + 4 * (128 * 128 + 128) + (128 * 512 + 512) + (512 * 128 + 128)
    #expect(model.parameterCount == 65 * 128 + 128 * 128 + 2 * block + 256 + 128 * 65 + 65)
    let symbols = Var.constant(Tensor.zeros([3, 10], dtype: .float32))
    #expect(noGrad { model(symbols) }.shape == [3, 10, 65])
    #expect(noGrad { model.attentionWeights(symbols, layer: 1) }.shape == [3, 4, 10, 10])
  }

  /// Sampling reads its window padded with zeros after the symbols: by causality the logits
  /// at the last symbol are those of the symbols alone, so a temperature near 0 picks what a
  /// run over the text so far picks, also once the text is longer than the context.
  @Test func samplingPicksWhatAFullRunPicks() {
    var rng = SeededGenerator(seed: 9)
    let model = CharacterTransformer(
      vocabularySize: 5, contextLength: 6, modelSize: 8, heads: 2, layers: 2,
      feedForwardSize: 16, dtype: .float64, using: &rng)
    var sampler = SeededGenerator(seed: 2)
    let prompt = [1, 3, 0]
    let sampled = model.sample(after: prompt, count: 8, temperature: 1e-6, using: &sampler)
    var text = prompt
    for _ in 0..<8 {
      let window = Array(text.suffix(6))
      let logits = noGrad {
        model(
          Var.constant(
            Tensor(window.map(Double.init), shape: [1, window.count], dtype: .float64))
        ).value
      }
      let last = Array(logits.scalars.suffix(5))
      text.append(last.indices.max { last[$0] < last[$1] }!)
    }
    #expect(sampled == Array(text.dropFirst(3)))
  }

  @Test func seededModelLearnsAPeriodicText() throws {
    var rng = SeededGenerator(seed: 3)
    let vocabulary = CharacterVocabulary("abcde")
    let symbols = try vocabulary.encode(String(repeating: "abcde", count: 100))
    let model = CharacterTransformer(
      vocabularySize: 5, contextLength: 10, modelSize: 16, heads: 2, layers: 1,
      feedForwardSize: 32, using: &rng)
    let trainer = Trainer(
      model: model, optimizer: Adam(learningRate: 0.01),
      loss: { crossEntropy(logits: $0, labels: $1) }, seed: 3)
    trainer.showsProgress = false
    try trainer.fit(Dataset.nextSymbol(symbols, length: 10), epochs: 15, batchSize: 8)
    var sampler = SeededGenerator(seed: 4)
    let sample = model.sample(
      after: try vocabulary.encode("abc"), count: 12, temperature: 0.5, using: &sampler)
    #expect(vocabulary.decode(sample) == "deabcdeabcde")
  }

  /// Saved and loaded into a model built with other weights, every module predicts bit for
  /// bit what the saved one predicts.
  @Test func saveAndLoadPredictBitForBit() throws {
    var rng = SeededGenerator(seed: 10)
    let makers: [(UInt64) -> Module] = [
      { seed in
        var g = SeededGenerator(seed: seed)
        return MultiHeadAttention(modelSize: 8, heads: 2, causal: true, using: &g)
      },
      { seed in
        var g = SeededGenerator(seed: seed)
        return Sequential(
          LearnedPositionalEncoding(maxLength: 5, modelSize: 8, using: &g),
          SinusoidalPositionalEncoding(maxLength: 5, modelSize: 8),
          TransformerBlock(modelSize: 8, heads: 2, feedForwardSize: 12, using: &g))
      },
    ]
    let input = Var.constant(Tensor.normal([2, 5, 8], dtype: .float32, using: &rng))
    for make in makers {
      let (saved, loaded) = (make(1), make(2))
      let url = FileManager.default.temporaryDirectory.appendingPathComponent("attn-\(UUID()).st")
      defer { try? FileManager.default.removeItem(at: url) }
      try saved.save(to: url)
      #expect(noGrad { loaded(input).value } != noGrad { saved(input).value })
      try loaded.load(from: url)
      #expect(noGrad { loaded(input).value } == noGrad { saved(input).value })
    }
    let model = CharacterTransformer(
      vocabularySize: 6, contextLength: 5, modelSize: 8, heads: 2, layers: 2, feedForwardSize: 12,
      using: &rng)
    let other = CharacterTransformer(
      vocabularySize: 6, contextLength: 5, modelSize: 8, heads: 2, layers: 2, feedForwardSize: 12,
      using: &rng)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("attn-\(UUID()).st")
    defer { try? FileManager.default.removeItem(at: url) }
    try model.save(to: url)
    try other.load(from: url)
    var (a, b) = (SeededGenerator(seed: 1), SeededGenerator(seed: 1))
    #expect(
      model.sample(after: [1, 2], count: 20, using: &a)
        == other.sample(after: [1, 2], count: 20, using: &b))
  }
}
