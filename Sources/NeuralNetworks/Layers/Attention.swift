import Autodiff

/// The attention weights of queries on keys: softmax(scale · Q Kᵀ), one row per query.
///
/// ```
/// A = softmax(scale · Q Kᵀ)        Aᵢⱼ = e^(scale · qᵢ·kⱼ) / Σₗ e^(scale · qᵢ·kₗ)
/// ```
/// Row i says how much query i attends to each key; every row sums to 1. The course's
/// attention, α = softmax(kⱼ·q), is one row of it with scale 1.
///
/// Backward (by the engine): through the softmax along each row and the matrix product.
///
/// - Parameters:
///   - queries: Q, `[n, d]`, one query per row.
///   - keys: K, `[m, d]`, one key per row.
///   - scale: Multiplies the scores before the softmax: 1/√d in a transformer, the inverse
///     temperature β in a modern Hopfield network.
/// - Returns: A node of shape `[n, m]`.
/// - Precondition: `queries` and `keys` are matrices with the same number of columns.
/// - Complexity: O(n · m · d).
public func attentionWeights(queries: Var, keys: Var, scale: Double) -> Var {
  require(
    queries.rank == 2 && keys.rank == 2 && queries.shape[1] == keys.shape[1],
    "attention: queries \(queries.shape) and keys \(keys.shape) must be matrices [n, d] and [m, d]"
  )
  return (queries.matmul(keys, transposingOther: true) * scale).softmax(along: 1)
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
/// it is the attention of a transformer (scale 1/√d).
///
/// ```swift
/// let keys = Var.constant(Tensor([[1, 0], [0, 1]]))
/// let values = Var.constant(Tensor([[10, 0], [0, 10]]))
/// let query = Var.constant(Tensor([[4, 0]]))
/// print(attention(queries: query, keys: keys, values: values, scale: 1).value)
/// // [[9.820137900379084, 0.17986209962091554]]
/// ```
///
/// - Parameters:
///   - queries: Q, `[n, d]`.
///   - keys: K, `[m, d]`.
///   - values: V, `[m, e]`, one value per key.
///   - scale: Multiplies the scores before the softmax.
/// - Returns: A node of shape `[n, e]`.
/// - Precondition: Q and K have the same number of columns; K and V the same number of rows.
/// - Complexity: O(n · m · (d + e)).
public func attention(queries: Var, keys: Var, values: Var, scale: Double) -> Var {
  require(
    values.rank == 2 && values.shape[0] == keys.shape.first,
    "attention: values \(values.shape) must be a matrix with one row per key (keys \(keys.shape))"
  )
  return attentionWeights(queries: queries, keys: keys, scale: scale).matmul(values)
}
