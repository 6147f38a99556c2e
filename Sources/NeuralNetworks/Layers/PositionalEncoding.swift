import Autodiff
import Foundation

/// Adds to every position of a sequence a fixed code of that position, built from sines
/// and cosines of geometrically spaced frequencies (Vaswani et al. 2017).
///
/// Attention by itself does not see order: permuting the positions of its input permutes
/// its output. Adding a code of each position to the input lets it tell positions apart.
/// For position p and feature pair i of D:
/// ```
/// PE(p, 2i) = sin(p / 10000^(2i/D)),   PE(p, 2i + 1) = cos(p / 10000^(2i/D))
/// ```
/// Every code has the same norm, and the code of p + k is a fixed rotation of that of p in
/// each pair, whatever p, so relative positions are linear functions of the codes. It has
/// no parameters.
///
/// Backward: ∂L/∂x = s.
public final class SinusoidalPositionalEncoding: Module {
  /// The codes of positions 0 ..< maxLength, `[maxLength, D]`.
  public let table: Tensor

  /// Codes for sequences of up to `maxLength` positions of width `modelSize`.
  public init(maxLength: Int, modelSize: Int, dtype: DType = .default) {
    require(
      maxLength > 0 && modelSize > 0,
      "SinusoidalPositionalEncoding: length \(maxLength) and width \(modelSize) must be positive")
    var table = Tensor.zeros([maxLength, modelSize], dtype: dtype)
    for p in 0..<maxLength {
      for j in 0..<modelSize {
        let frequency = Foundation.pow(10_000, -Double(j / 2 * 2) / Double(modelSize))
        let angle = Double(p) * frequency
        table[p, j] = j % 2 == 0 ? Foundation.sin(angle) : Foundation.cos(angle)
      }
    }
    self.table = table
  }

  /// x `[…, t, D]` plus the codes of positions 0 ..< t.
  public override func callAsFunction(_ x: Var) -> Var {
    let t = checkedLength(x, maxLength: table.shape[0], width: table.shape[1], summary)
    let width = table.shape[1]
    let codes = Tensor(
      Array(table.scalars[0..<(t * width)]), shape: [t, width], dtype: table.dtype)
    return x + Var.constant(codes, name: "PE")
  }

  public override var summary: String {
    "SinusoidalPositionalEncoding(\(table.shape[0]) × \(table.shape[1]))"
  }
}

/// Adds to every position of a sequence a learned vector for that position: a trainable
/// table `[maxLength, D]` whose row p is added at position p.
///
/// Backward: ∂L/∂x = s; ∂L/∂table[p] = the sum of s at position p over the batch (rows
/// beyond the sequence length get 0).
public final class LearnedPositionalEncoding: Module {
  /// The learned vectors of positions 0 ..< maxLength, `[maxLength, D]`.
  public let table: Var

  /// Vectors for up to `maxLength` positions of width `modelSize`, drawn from
  /// N(0, standardDeviation²).
  public init(
    maxLength: Int, modelSize: Int, standardDeviation: Double = 0.02, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    require(
      maxLength > 0 && modelSize > 0,
      "LearnedPositionalEncoding: length \(maxLength) and width \(modelSize) must be positive")
    table = Var(
      Tensor.normal(
        [maxLength, modelSize], standardDeviation: standardDeviation, dtype: dtype,
        using: &generator), name: "P")
  }

  public override var ownParameters: [Var] { [table] }

  /// x `[…, t, D]` plus the vectors of positions 0 ..< t.
  public override func callAsFunction(_ x: Var) -> Var {
    let t = checkedLength(x, maxLength: table.shape[0], width: table.shape[1], summary)
    return x + (t == table.shape[0] ? table : table.rows(0..<t))
  }

  public override var summary: String {
    "LearnedPositionalEncoding(\(table.shape[0]) × \(table.shape[1]))"
  }
}

/// The length t of a sequence `[…, t, D]`, after checking it against a table's.
private func checkedLength(_ x: Var, maxLength: Int, width: Int, _ owner: String) -> Int {
  require(
    x.rank >= 2 && x.shape.last == width && x.shape[x.rank - 2] <= maxLength,
    "\(owner): input \(x.shape) is not [..., t, \(width)] with t ≤ \(maxLength)")
  return x.shape[x.rank - 2]
}
