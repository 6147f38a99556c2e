import Autodiff

/// A lookup table of vectors: input indices (stored as numbers, any shape) become rows of
/// the table, output shape = input shape + [dimension].
///
/// Backward: each row's gradient is the sum of the gradients of its lookups.
public final class Embedding: Module {
  public let table: Var

  public init(
    count: Int, dimension: Int, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    table = Var(Tensor.normal([count, dimension], dtype: dtype, using: &generator), name: "E")
  }

  public override var ownParameters: [Var] { [table] }

  public override func callAsFunction(_ indices: Var) -> Var {
    table.gathered(rowsAt: indices)
  }

  public override var summary: String { "Embedding(\(table.shape[0]) × \(table.shape[1]))" }
}
