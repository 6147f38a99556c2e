import Autodiff
import Foundation

/// A pre-norm transformer block: self-attention, then a two-layer perceptron applied at
/// every position, each added to its input.
///
/// ```
/// x ← x + MultiHeadAttention(LayerNorm(x))
/// x ← x + W₂ ReLU(W₁ LayerNorm(x) + b₁) + b₂
/// ```
/// Normalizing before each sublayer, rather than after the sum (the original post-norm
/// block), leaves a path from the output to the input through the additions alone, so
/// gradients reach the first block undiminished and training is stable without a warm-up.
/// Built from ``Residual``, ``LayerNorm``, ``MultiHeadAttention`` and ``Linear``.
public final class TransformerBlock: Module {
  /// x + attention(LayerNorm(x)).
  public let attentionSublayer: Residual
  /// x + MLP(LayerNorm(x)).
  public let feedForwardSublayer: Residual
  /// The normalization before the attention, and the attention itself.
  public let attentionNorm: LayerNorm
  public let attention: MultiHeadAttention

  /// A block over inputs of width `modelSize`, with `heads` heads (which divide it) and a
  /// hidden layer of `feedForwardSize` units (four times the width, usually).
  public init(
    modelSize: Int, heads: Int, feedForwardSize: Int, causal: Bool = false,
    activation: ActivationFunction = .relu, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    attentionNorm = LayerNorm(features: modelSize, dtype: dtype)
    attention = MultiHeadAttention(
      modelSize: modelSize, heads: heads, causal: causal, dtype: dtype, using: &generator)
    attentionSublayer = Residual(Sequential(attentionNorm, attention))
    feedForwardSublayer = Residual(
      Sequential(
        LayerNorm(features: modelSize, dtype: dtype),
        Linear(
          inputSize: modelSize, outputSize: feedForwardSize, initialization: .he, dtype: dtype,
          using: &generator),
        Activation(activation),
        Linear(
          inputSize: feedForwardSize, outputSize: modelSize, dtype: dtype, using: &generator)))
  }

  public override var children: [Module] { [attentionSublayer, feedForwardSublayer] }

  /// The block applied to `x` `[…, t, D]`: a node of its shape.
  public override func callAsFunction(_ x: Var) -> Var {
    feedForwardSublayer(attentionSublayer(x))
  }

  public override var summary: String {
    "TransformerBlock(\(attention.modelSize), \(attention.heads) heads\(attention.isCausal ? ", causal" : ""))"
  }
}

/// A character-level causal transformer: each symbol embedded and given a learned vector
/// for its position, pre-norm ``TransformerBlock``s with causal self-attention, a final
/// ``LayerNorm`` and a ``Linear`` readout of the next symbol's logits at every position.
///
/// ```
/// symbols [batch, t] → Embedding + positions → [batch, t, D] → blocks → LayerNorm
///                    → Linear → logits [batch, t, vocabulary]
/// ```
///
/// Trained like ``CharacterLanguageModel``, by the ``Trainer`` with
/// `crossEntropy(logits:labels:)` against the next symbols; it reads at most
/// ``contextLength`` symbols. Unlike the LSTM, which carries a state, it attends to every
/// earlier symbol of its window directly, and all positions of a window train in parallel.
public final class CharacterTransformer: Module {
  public let embedding: Embedding
  public let positions: LearnedPositionalEncoding
  public let blocks: [TransformerBlock]
  public let finalNorm: LayerNorm
  public let readout: Linear

  /// The number of symbols.
  public var vocabularySize: Int { readout.outputSize }
  /// The longest window the model reads.
  public var contextLength: Int { positions.table.shape[0] }

  /// A model of `layers` blocks of width `modelSize`, `heads` heads and a hidden layer of
  /// `feedForwardSize` units, reading up to `contextLength` symbols.
  public init(
    vocabularySize: Int, contextLength: Int = 128, modelSize: Int = 128, heads: Int = 4,
    layers: Int = 2, feedForwardSize: Int = 512, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    require(layers > 0, "CharacterTransformer: \(layers) layers")
    embedding = Embedding(
      count: vocabularySize, dimension: modelSize, dtype: dtype, using: &generator)
    positions = LearnedPositionalEncoding(
      maxLength: contextLength, modelSize: modelSize, dtype: dtype, using: &generator)
    blocks = (0..<layers).map { _ in
      TransformerBlock(
        modelSize: modelSize, heads: heads, feedForwardSize: feedForwardSize, causal: true,
        dtype: dtype, using: &generator)
    }
    finalNorm = LayerNorm(features: modelSize, dtype: dtype)
    readout = Linear(
      inputSize: modelSize, outputSize: vocabularySize, dtype: dtype, using: &generator)
  }

  public override var children: [Module] {
    [embedding, positions] + blocks + [finalNorm, readout]
  }

  /// The logits of the next symbol after every position: `[batch, t]` symbols (t ≤
  /// ``contextLength``) → `[batch, t, vocabularySize]`.
  public override func callAsFunction(_ symbols: Var) -> Var {
    readout(finalNorm(blocks.reduce(positions(embedding(symbols))) { $1($0) }))
  }

  /// The attention weights of every head of block `layer` over `symbols` `[batch, t]`:
  /// `[batch, heads, t, t]`, row i the weights with which position i reads positions 0…i.
  public func attentionWeights(_ symbols: Var, layer: Int) -> Var {
    require(
      blocks.indices.contains(layer),
      "CharacterTransformer.attentionWeights: no block \(layer) of \(blocks.count)")
    let x = blocks[..<layer].reduce(positions(embedding(symbols))) { $1($0) }
    return blocks[layer].attention.weights(blocks[layer].attentionNorm(x))
  }

  /// `count` symbols drawn one at a time after the symbols of `prompt`, each from
  /// softmax(logits / temperature), reading at most the last ``contextLength`` symbols.
  ///
  /// One graph of a full window is built once and evaluated again for every new symbol:
  /// the symbols read sit at the start of the window and the logits are taken at the last
  /// of them. The positions after it hold zeros, which the causal mask hides from it.
  public func sample(
    after prompt: [Int], count: Int, temperature: Double = 1,
    using generator: inout some RandomNumberGenerator
  ) -> [Int] {
    require(!prompt.isEmpty, "CharacterTransformer.sample: the prompt is empty")
    require(temperature > 0, "CharacterTransformer.sample: temperature \(temperature) ≤ 0")
    let (dtype, length) = (readout.weight.dtype, contextLength)
    let window = Var.constant(Tensor.zeros([1, length], dtype: dtype))
    // A recorded graph (under noGrad every node would be a constant that never changes);
    // nothing is backpropagated through it.
    let logits = self(window)
    var context = Array(prompt.suffix(length))
    var result: [Int] = []
    for _ in 0..<count {
      var symbols = context.map(Double.init)
      symbols += [Double](repeating: 0, count: length - symbols.count)
      window.set(Tensor(symbols, shape: [1, length], dtype: dtype))
      logits.evaluate()
      let v = vocabularySize
      let row = Array(logits.value.scalars[((context.count - 1) * v)..<(context.count * v)])
      let drawn = CharacterLanguageModel.draw(row, temperature: temperature, using: &generator)
      result.append(drawn)
      context.append(drawn)
      if context.count > length { context.removeFirst() }
    }
    return result
  }

  public override var summary: String {
    "CharacterTransformer(\(vocabularySize) symbols, \(blocks.count) blocks of \(finalNorm.gamma.shape[0]), context \(contextLength))"
  }
}
