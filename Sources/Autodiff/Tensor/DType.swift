/// The element type of a ``Tensor``: 32-bit or 64-bit IEEE floating point.
///
/// Everything that makes a tensor or a node without being told a dtype (tensor
/// initializers, layers, datasets, labels) makes ``default``, `Float`: the precision neural
/// networks train in. Pass `.float64` for `Double`, as the gradient checks do. An op whose
/// arguments mix the two computes in `Double`, and a number literal mixed with a ``Var``
/// takes the `Var`'s dtype.
public enum DType: String, Sendable, Hashable, CustomStringConvertible {
  /// `Float`, the default for neural networks.
  case float32
  /// `Double`, used for gradient checks.
  case float64

  /// The dtype used when none is given: `Float`.
  public static let `default` = DType.float32

  /// The size of one element in bytes.
  public var byteCount: Int { self == .float32 ? 4 : 8 }

  /// The short name used in printed output and benchmark lines (`f32`, `f64`).
  public var description: String { self == .float32 ? "f32" : "f64" }
}
