import Autodiff

/// The attention weights of queries on keys: softmax(scale · Q Kᵀ), one row per query.
///
/// ```
/// A = softmax(scale · Q Kᵀ)        Aᵢⱼ = e^(scale · qᵢ·kⱼ) / Σₗ e^(scale · qᵢ·kₗ)
/// ```
/// Row i says how much query i attends to each key; every row sums to 1. The course's
/// attention, α = softmax(kⱼ·q), is one row of it with scale 1. With `causal`, query i
/// sees only the keys up to its own position (keys j ≤ i when there are as many keys as
/// queries): the weights of later keys are exactly 0 (``Autodiff/Var/causalSoftmax(scale:)``).
///
/// Queries and keys may be stacks `[…, n, d]` and `[…, m, d]` (a batch of sequences, or
/// sequences and heads), whose leading axes broadcast; the weights are then `[…, n, m]`.
///
/// Backward (by the engine): through the softmax along each row and the matrix product.
///
/// - Parameters:
///   - queries: Q, `[n, d]` (or `[…, n, d]`), one query per row.
///   - keys: K, `[m, d]` (or `[…, m, d]`), one key per row.
///   - scale: Multiplies the scores before the softmax: 1/√d in a transformer, the inverse
///     temperature β in a modern Hopfield network.
///   - causal: Whether each query sees only the keys up to its own position.
/// - Returns: A node of shape `[n, m]` (or `[…, n, m]`).
/// - Precondition: `queries` and `keys` are matrices (or stacks of them) with the same
///   number of columns; with `causal`, m ≥ n.
/// - Complexity: O(n · m · d) per matrix.
public func attentionWeights(queries: Var, keys: Var, scale: Double, causal: Bool = false)
  -> Var
{
  require(
    queries.rank >= 2 && keys.rank >= 2 && queries.shape.last == keys.shape.last,
    "attention: queries \(queries.shape) and keys \(keys.shape) must be matrices [n, d] and [m, d] (or stacks [..., n, d] and [..., m, d])"
  )
  let scores = queries.matmul(keys, transposingOther: true)
  return causal ? scores.causalSoftmax(scale: scale) : (scores * scale).softmax(along: -1)
}

/// Attention: each query's weighted average of the values, with weights from its scores on
/// the keys.
///
/// ```
/// attention(Q, K, V) = softmax(scale · Q Kᵀ) V        hᵢ = Σⱼ Aᵢⱼ vⱼ
/// ```
/// Samples are rows, as everywhere in the library: query i gives output row i, a convex
/// combination of the rows of V. With the stored patterns X as both keys and values and
/// β as the scale, it is one update of a modern Hopfield network, ξ ← softmax(β ξ Xᵀ) X
/// (``ModernHopfield``); with learned projections of the inputs as queries, keys and values
/// it is the attention of a transformer (scale 1/√d, ``MultiHeadAttention``).
///
/// ```swift
/// let keys = Var.constant(Tensor([[1, 0], [0, 1]]))
/// let values = Var.constant(Tensor([[10, 0], [0, 10]]))
/// let query = Var.constant(Tensor([[4, 0]]))
/// print(attention(queries: query, keys: keys, values: values, scale: 1).value)
/// // ≈ [[9.8201, 0.1799]]: e⁴/(e⁴ + 1) · 10 and 10/(e⁴ + 1)
/// ```
///
/// This is the composed form, one engine op per step (products and softmax), on matrices or
/// stacks of them; ``MultiHeadAttention`` runs the engine's fused
/// ``Autodiff/Var/scaledDotProductAttention(queries:keys:values:heads:scale:causal:)``.
///
/// - Parameters:
///   - queries: Q, `[n, d]` (or `[…, n, d]`).
///   - keys: K, `[m, d]` (or `[…, m, d]`).
///   - values: V, `[m, e]` (or `[…, m, e]`), one value per key.
///   - scale: Multiplies the scores before the softmax.
///   - causal: Whether each query sees only the keys up to its own position.
/// - Returns: A node of shape `[n, e]` (or `[…, n, e]`).
/// - Precondition: Q and K have the same number of columns; K and V the same number of rows.
/// - Complexity: O(n · m · (d + e)) per matrix.
public func attention(
  queries: Var, keys: Var, values: Var, scale: Double, causal: Bool = false
) -> Var {
  require(
    values.rank >= 2 && keys.rank >= 2
      && values.shape[values.rank - 2] == keys.shape[keys.rank - 2],
    "attention: values \(values.shape) must be a matrix with one row per key (keys \(keys.shape))"
  )
  return attentionWeights(queries: queries, keys: keys, scale: scale, causal: causal).matmul(
    values)
}
