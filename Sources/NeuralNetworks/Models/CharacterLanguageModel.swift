import Autodiff
import Foundation

/// A character-level language model: each symbol of a sequence is embedded, an ``LSTM``
/// reads the sequence, and a ``Linear`` layer turns the hidden state of every step into
/// logits for the next symbol.
///
/// ```
/// symbols [batch, time] → Embedding → [batch, time, e] → LSTM → [batch, time, h]
///                       → Linear → logits [batch, time, vocabulary]
/// ```
///
/// Trained by the ``Trainer`` with `crossEntropy(logits:labels:)` against the next symbols
/// (``Dataset/nextSymbol(_:length:dtype:)``); its loss in nats divided by ln 2 is the bits
/// per character. ``sample(after:count:temperature:using:)`` generates text one symbol at a
/// time, carrying the LSTM's state.
public final class CharacterLanguageModel: Module {
  public let embedding: Embedding
  public let lstm: LSTM
  public let readout: Linear

  /// The number of symbols.
  public var vocabularySize: Int { readout.outputSize }

  public init(
    vocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 256, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    embedding = Embedding(
      count: vocabularySize, dimension: embeddingSize, dtype: dtype, using: &generator)
    lstm = LSTM(
      inputSize: embeddingSize, hiddenSize: hiddenSize, dtype: dtype, using: &generator)
    readout = Linear(
      inputSize: hiddenSize, outputSize: vocabularySize, dtype: dtype, using: &generator)
  }

  public override var children: [Module] { [embedding, lstm, readout] }

  /// The logits of the next symbol after every position: `[batch, time]` symbols →
  /// `[batch, time, vocabularySize]`.
  public override func callAsFunction(_ symbols: Var) -> Var {
    readout(lstm(embedding(symbols)))
  }

  /// `count` symbols drawn one at a time after the symbols of `prompt`, each from
  /// softmax(logits / temperature): a temperature below 1 sharpens the distribution toward
  /// the likeliest symbol, above 1 flattens it.
  ///
  /// The prompt is read in one pass; then a one-step graph is built once and re-evaluated
  /// for every new symbol, with the LSTM's state carried from step to step.
  public func sample(
    after prompt: [Int], count: Int, temperature: Double = 1,
    using generator: inout some RandomNumberGenerator
  ) -> [Int] {
    require(!prompt.isEmpty, "CharacterLanguageModel.sample: the prompt is empty")
    require(temperature > 0, "CharacterLanguageModel.sample: temperature \(temperature) ≤ 0")
    let dtype = readout.weight.dtype
    let symbols = Tensor(prompt.map(Double.init), shape: [1, prompt.count], dtype: dtype)
    var (state, logits) = noGrad { () -> ([Tensor], Tensor) in
      let read = lstm.unrolled(embedding(Var.constant(symbols)))
      return (read.final.map(\.value), readout(read.outputs[prompt.count - 1]).value)
    }
    // A recorded graph (not under noGrad, which would make every node a constant) that is
    // evaluated again for each new symbol; nothing is backpropagated through it.
    let symbol = Var.constant(Tensor.zeros([1, 1], dtype: dtype))
    let h = Var.constant(state[0])
    let c = Var.constant(state[1])
    let step = lstm.unrolled(embedding(symbol), initialState: [h, c])
    let next = readout(step.outputs[0])
    var result: [Int] = []
    for _ in 0..<count {
      let drawn = Self.draw(logits.scalars, temperature: temperature, using: &generator)
      result.append(drawn)
      symbol.set(Tensor([Double(drawn)], shape: [1, 1], dtype: dtype))
      h.set(state[0])
      c.set(state[1])
      next.evaluate()
      state = step.final.map(\.value)
      logits = next.value
    }
    return result
  }

  /// A symbol drawn from softmax(logits / temperature).
  static func draw(
    _ logits: [Double], temperature: Double, using generator: inout some RandomNumberGenerator
  ) -> Int {
    let largest = logits.max() ?? 0
    let weights = logits.map { Foundation.exp(($0 - largest) / temperature) }
    var u = Double.random(in: 0..<1, using: &generator) * weights.reduce(0, +)
    for (symbol, weight) in weights.enumerated() {
      u -= weight
      if u < 0 { return symbol }
    }
    return weights.count - 1
  }

  public override var summary: String {
    "CharacterLanguageModel(\(vocabularySize) symbols, embedding \(embedding.table.shape[1]), LSTM \(lstm.hiddenSize))"
  }
}
