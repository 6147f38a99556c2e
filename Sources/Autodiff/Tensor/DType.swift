/// The element type of a ``Tensor``: 32-bit or 64-bit IEEE floating point.
///
/// Binary operations require both operands to have the same dtype; a scalar literal mixed
/// with a ``Var`` takes the dtype of the `Var`.
public enum DType: String, Sendable, Hashable, CustomStringConvertible {
  /// `Float`, the default for neural networks.
  case float32
  /// `Double`, used for gradient checks.
  case float64

  /// The size of one element in bytes.
  public var byteCount: Int { self == .float32 ? 4 : 8 }

  /// The short name used in printed output and benchmark lines (`f32`, `f64`).
  public var description: String { self == .float32 ? "f32" : "f64" }
}
