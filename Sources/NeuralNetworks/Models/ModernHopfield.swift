import Autodiff
import Foundation

/// A modern Hopfield network (Ramsauer et al. 2020, "Hopfield Networks is All You Need"):
/// continuous states, P stored patterns, and an update that is attention.
///
/// With the stored patterns X as rows `[P, d]` and the states (queries) Ξ as rows `[n, d]`,
/// one update is
/// ```
/// Ξ ← softmax(β Ξ Xᵀ) X          (for one state ξ: ξ ← Xᵀ softmax(β X ξ))
/// ```
/// Each new state is a weighted average of the stored patterns, weighted by the softmax of
/// its overlaps with them. With β large enough for the patterns to be well separated, one
/// update retrieves the stored pattern closest to the state; otherwise it converges to an
/// average of similar patterns (a metastable state) or of all of them. The update never
/// raises the energy
/// ```
/// E(ξ) = −β⁻¹ ln Σᵢ e^(β xᵢ·ξ) + ½ ξ·ξ + β⁻¹ ln P + ½ M²,    M = maxᵢ ‖xᵢ‖
/// ```
/// (the update is the concave–convex procedure on E), and it can store exponentially many
/// patterns in d.
///
/// The layer is made of graph ops (``attention(queries:keys:values:scale:)``), so it is
/// differentiable in the states and in the stored patterns, which are a trainable
/// parameter: the memory can be written directly (``init(storing:beta:)``) or learned by the
/// ``Trainer`` (``init(patternCount:dimension:beta:dtype:using:)``).
///
/// **With learned projections it is attention.** ``init(storing:beta:projectionSize:using:)``
/// adds W_Q, W_K `[d, k]` and W_V `[d, d]`:
/// ```
/// Ξ ← softmax(β (Ξ W_Q)(X W_K)ᵀ) (X W_V)
/// ```
/// the queries, keys and values of a transformer's attention, with the stored patterns as
/// the keys' and values' source (β = 1/√k there).
///
/// ```swift
/// let memory = ModernHopfield(storing: Tensor([[1, 1, -1, -1], [1, -1, 1, -1]]), beta: 4)
/// let probe = Tensor([[1, 1, -1, 0]])     // the first pattern with one entry unknown
/// print(memory.retrieve(probe))           // ≈ [[1, 1, -1, -1]]
/// ```
public final class ModernHopfield: Module {
  /// X, `[P, d]`: the stored patterns, one per row.
  public let patterns: Var
  /// β, the inverse temperature: the larger, the sharper the retrieval.
  public let beta: Double
  /// W_Q, `[d, k]`, when the layer has learned projections.
  public let queryWeight: Var?
  /// W_K, `[d, k]`, when the layer has learned projections.
  public let keyWeight: Var?
  /// W_V, `[d, d]`, when the layer has learned projections.
  public let valueWeight: Var?

  /// A memory of the rows of `patterns` `[P, d]`, with inverse temperature `beta`.
  public init(storing patterns: Tensor, beta: Double) {
    Self.check(patterns.shape, beta)
    self.patterns = Var(patterns, name: "X")
    self.beta = beta
    (queryWeight, keyWeight, valueWeight) = (nil, nil, nil)
  }

  /// A memory of `patternCount` patterns of `dimension` entries drawn from N(0, 1), to be
  /// learned by a ``Trainer``.
  public convenience init(
    patternCount: Int, dimension: Int, beta: Double, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    self.init(
      storing: Tensor.normal([patternCount, dimension], dtype: dtype, using: &generator),
      beta: beta)
  }

  /// A memory of the rows of `patterns` `[P, d]` read through learned projections:
  /// queries Ξ W_Q, keys X W_K (W_Q, W_K `[d, projectionSize]`) and values X W_V
  /// (W_V `[d, d]`), all drawn from N(0, 1/d).
  public init(
    storing patterns: Tensor, beta: Double, projectionSize: Int,
    using generator: inout some RandomNumberGenerator
  ) {
    Self.check(patterns.shape, beta)
    require(
      projectionSize > 0, "ModernHopfield: projection size \(projectionSize) must be positive")
    let d = patterns.shape[1]
    func weight(_ columns: Int, _ name: String) -> Var {
      Var(
        Initialization.scaledNormal.weights(
          fanIn: d, fanOut: columns, dtype: patterns.dtype, using: &generator), name: name)
    }
    self.patterns = Var(patterns, name: "X")
    self.beta = beta
    queryWeight = weight(projectionSize, "Wq")
    keyWeight = weight(projectionSize, "Wk")
    valueWeight = weight(d, "Wv")
  }

  public override var ownParameters: [Var] {
    [patterns] + [queryWeight, keyWeight, valueWeight].compactMap { $0 }
  }

  /// P, the number of stored patterns.
  public var patternCount: Int { patterns.shape[0] }
  /// d, the length of a pattern and of a state.
  public var dimension: Int { patterns.shape[1] }

  /// One update of a batch of states `[n, d]`: softmax(β Ξ Xᵀ) X (with projections,
  /// softmax(β (Ξ W_Q)(X W_K)ᵀ) (X W_V)), a node of shape `[n, d]`.
  ///
  /// Backward (by the engine): through the matrix products and the softmax of each row, to
  /// the states, the stored patterns and the projections.
  public override func callAsFunction(_ states: Var) -> Var {
    checkStates(states.shape, "update")
    let (queries, keys, values) = projected(states)
    return attention(queries: queries, keys: keys, values: values, scale: beta)
  }

  /// The weights with which each state averages the stored patterns, softmax(β Ξ Xᵀ), a
  /// node of shape `[n, P]` whose rows sum to 1.
  public func associations(_ states: Var) -> Var {
    checkStates(states.shape, "associations")
    let (queries, keys, _) = projected(states)
    return attentionWeights(queries: queries, keys: keys, scale: beta)
  }

  /// The energy of each state in a batch `[n, d]`, a node of shape `[n]`:
  /// E(ξ) = −β⁻¹ ln Σᵢ e^(β xᵢ·ξ) + ½ ξ·ξ + β⁻¹ ln P + ½ M², with M = maxᵢ ‖xᵢ‖.
  ///
  /// - Precondition: The layer has no projections (the energy is that of the plain update).
  public func energy(_ states: Var) -> Var {
    checkStates(states.shape, "energy")
    require(queryWeight == nil, "ModernHopfield.energy: defined without projections only")
    let overlaps = states.matmul(patterns, transposingOther: true) * beta
    let largestSquaredNorm = patterns.squared().sum(along: 1).max()
    return -overlaps.logSumExp(along: 1) * (1 / beta)
      + states.squared().sum(along: 1) * 0.5
      + (Foundation.log(Double(patternCount)) / beta + largestSquaredNorm * 0.5)
  }

  /// The states reached from `probes` `[n, d]` after `updates` updates, without recording
  /// gradients: the graph of one update is built once and re-evaluated.
  ///
  /// Probes may hold 0 for unknown entries: they add nothing to the overlaps.
  public func retrieve(_ probes: Tensor, updates: Int = 1) -> Tensor {
    checkStates(probes.shape, "retrieve")
    require(updates >= 0, "ModernHopfield.retrieve: \(updates) updates")
    guard updates > 0 else { return probes }
    let state = Var.constant(probes.converted(to: patterns.dtype), name: "ξ")
    let next = self(state)
    for _ in 1..<updates {
      state.updateValue { $0.assign(next.value) }
      next.evaluate()
    }
    return next.value
  }

  public override var summary: String {
    let projection = keyWeight.map { ", projections \(dimension) → \($0.shape[1])" } ?? ""
    return "ModernHopfield(\(patternCount) patterns of \(dimension), β = \(beta)\(projection))"
  }

  private func projected(_ states: Var) -> (queries: Var, keys: Var, values: Var) {
    guard let queryWeight, let keyWeight, let valueWeight else {
      return (states, patterns, patterns)
    }
    return (
      states.matmul(queryWeight), patterns.matmul(keyWeight), patterns.matmul(valueWeight)
    )
  }

  private func checkStates(_ shape: [Int], _ function: String) {
    require(
      shape.count == 2 && shape[1] == dimension,
      "ModernHopfield.\(function): states of shape \(shape) are not [n, \(dimension)]")
  }

  private static func check(_ shape: [Int], _ beta: Double) {
    require(
      shape.count == 2 && shape[0] > 0 && shape[1] > 0,
      "ModernHopfield: patterns of shape \(shape) are not [P, d] with P, d > 0")
    require(beta > 0 && beta.isFinite, "ModernHopfield: β = \(beta) must be positive")
  }
}
