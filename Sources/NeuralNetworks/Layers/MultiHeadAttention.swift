import Autodiff
import Foundation

/// Multi-head attention: the inputs projected to queries, keys and values, attention in
/// each of h heads side by side, and the heads' outputs projected back.
///
/// For inputs X `[…, t, D]` (self-attention, queries and keys from the same sequence) or
/// queries from X and keys and values from a context C `[…, s, D]`:
/// ```
/// Q = X W_Q,  K = C W_K,  V = C W_V                  (each [..., ·, D], biases added)
/// headᵢ = softmax(Qᵢ Kᵢᵀ / √d) Vᵢ                     Qᵢ: columns i·d ..< (i+1)·d, d = D / h
/// output = [head₁ … head_h] W_O + b_O                 [..., t, D]
/// ```
/// Each head is the course's attention, α = softmax(kⱼ·q), h = Σⱼ αⱼ vⱼ, with learned
/// projections and the scale 1/√d that keeps the scores of order 1. With `causal`, position
/// i attends only to positions up to i, which makes a language model: nothing can be read
/// from the symbols it is asked to predict.
///
/// The heads run as one engine op,
/// ``Autodiff/Var/scaledDotProductAttention(queries:keys:values:heads:scale:causal:)``
/// (fused, with the composed batched products and softmax as its oracle); ``weights(_:context:)``
/// builds the attention weights of every head from the composed ops.
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let attention = MultiHeadAttention(modelSize: 8, heads: 2, causal: true, using: &rng)
/// let x = Var(Tensor.normal([3, 5, 8], dtype: .float32, using: &rng))
/// print(attention(x).shape)           // [3, 5, 8]
/// print(attention.weights(x).shape)   // [3, 2, 5, 5]
/// ```
public final class MultiHeadAttention: Module {
  /// W_Q, W_K, W_V `[D, D]` with their biases, and the output projection W_O.
  public let queryProjection: Linear
  public let keyProjection: Linear
  public let valueProjection: Linear
  public let outputProjection: Linear
  /// h, the number of heads.
  public let heads: Int
  /// Whether position i attends only to positions up to i.
  public let isCausal: Bool
  /// Whether the heads run as the engine's fused op (the default) or as its composition,
  /// `composedScaledDotProductAttention`: the same values and gradients within rounding,
  /// for comparison (the `transformer-composed` benchmark workload).
  public var isFused = true

  /// D, the width of the inputs and the output.
  public var modelSize: Int { queryProjection.inputSize }
  /// d = D / h, the width of each head's queries, keys and values.
  public var headSize: Int { modelSize / heads }

  /// Attention over inputs of width `modelSize` with `heads` heads (which divide it).
  ///
  /// The query, key and value projections are drawn Xavier-uniform, as PyTorch draws them;
  /// the output projection from N(0, 1/D); the biases start at 0.
  public init(
    modelSize: Int, heads: Int, causal: Bool = false, bias: Bool = true, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    require(
      modelSize > 0 && heads > 0 && modelSize % heads == 0,
      "MultiHeadAttention: \(heads) heads do not divide the model size \(modelSize)")
    func projection(_ initialization: Initialization) -> Linear {
      Linear(
        inputSize: modelSize, outputSize: modelSize, bias: bias, initialization: initialization,
        dtype: dtype, using: &generator)
    }
    queryProjection = projection(.xavier)
    keyProjection = projection(.xavier)
    valueProjection = projection(.xavier)
    outputProjection = projection(.scaledNormal)
    self.heads = heads
    self.isCausal = causal
  }

  public override var children: [Module] {
    [queryProjection, keyProjection, valueProjection, outputProjection]
  }

  /// Self-attention of `x` `[…, t, D]` (`[t, D]` for one sequence): a node of its shape.
  public override func callAsFunction(_ x: Var) -> Var { self(x, context: x) }

  /// Attention of the positions of `x` `[…, t, D]` to those of `context` `[…, s, D]`
  /// (the same leading axes): a node of x's shape. With a causal mask, s ≥ t and the last
  /// query sees the whole context.
  public func callAsFunction(_ x: Var, context: Var) -> Var {
    checkInputs(x, context)
    let attend =
      isFused ? Var.scaledDotProductAttention : Var.composedScaledDotProductAttention
    let heads = attend(
      queryProjection(x), keyProjection(context), valueProjection(context), self.heads,
      1 / Double(headSize).squareRoot(), isCausal)
    return outputProjection(heads)
  }

  /// The attention weights of every head, `[…, h, t, s]`: entry (i, j) of head k is how
  /// much position i attends to position j of the context (x itself by default). Every
  /// row sums to 1. Built from the composed ops (batched products and softmax).
  public func weights(_ x: Var, context: Var? = nil) -> Var {
    let context = context ?? x
    checkInputs(x, context)
    return attentionWeights(
      queries: splitHeads(queryProjection(x)), keys: splitHeads(keyProjection(context)),
      scale: 1 / Double(headSize).squareRoot(), causal: isCausal)
  }

  /// `[…, t, h·d]` → `[…, h, t, d]`.
  private func splitHeads(_ x: Var) -> Var {
    let r = x.rank + 1
    return x.reshaped(Array(x.shape.dropLast()) + [heads, headSize]).permuted(
      Array(0..<(r - 3)) + [r - 2, r - 3, r - 1])
  }

  private func checkInputs(_ x: Var, _ context: Var) {
    require(
      x.rank >= 2 && x.shape.last == modelSize && context.rank == x.rank
        && context.shape.last == modelSize && context.shape.dropLast(2) == x.shape.dropLast(2),
      "\(summary): inputs \(x.shape) and context \(context.shape) are not [..., t, \(modelSize)] and [..., s, \(modelSize)] with the same leading axes"
    )
  }

  public override var summary: String {
    "MultiHeadAttention(\(modelSize), \(heads) heads\(isCausal ? ", causal" : ""))"
  }
}
