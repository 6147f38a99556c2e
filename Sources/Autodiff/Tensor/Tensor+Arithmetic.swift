/// Arithmetic on plain tensors, with the broadcasting, dtype promotion and shape errors of
/// the ops on ``Var``: `a + b` on tensors is the value of `Var(a) + Var(b)`, computed by the
/// same kernels, with no graph kept.
///
/// ```swift
/// let a = Tensor([[1, 2], [3, 4]])
/// let b = Tensor([10, 20])
/// print((a + b).rowScalars)        // [[11.0, 22.0], [13.0, 24.0]]
/// print(a.matmul(.eye(2)) == a)    // true
/// ```
extension Tensor {
  /// The value of `body` applied to constant nodes holding `tensors`, with no graph kept.
  @inline(__always)
  static func computed(_ tensors: Tensor..., body: ([Var]) -> Var) -> Tensor {
    noGrad { body(tensors.map { Var.constant($0) }).value }
  }

  /// The elementwise sum, broadcasting shapes.
  public static func + (a: Tensor, b: Tensor) -> Tensor { computed(a, b) { $0[0] + $0[1] } }
  /// The elementwise difference, broadcasting shapes.
  public static func - (a: Tensor, b: Tensor) -> Tensor { computed(a, b) { $0[0] - $0[1] } }
  /// The elementwise product, broadcasting shapes.
  public static func * (a: Tensor, b: Tensor) -> Tensor { computed(a, b) { $0[0] * $0[1] } }
  /// The elementwise quotient, broadcasting shapes.
  public static func / (a: Tensor, b: Tensor) -> Tensor { computed(a, b) { $0[0] / $0[1] } }
  /// The elementwise negation.
  public static prefix func - (a: Tensor) -> Tensor { computed(a) { -$0[0] } }

  /// Each element plus `b`.
  public static func + (a: Tensor, b: Double) -> Tensor { computed(a) { $0[0] + b } }
  /// `a` plus each element.
  public static func + (a: Double, b: Tensor) -> Tensor { computed(b) { a + $0[0] } }
  /// Each element minus `b`.
  public static func - (a: Tensor, b: Double) -> Tensor { computed(a) { $0[0] - b } }
  /// `a` minus each element.
  public static func - (a: Double, b: Tensor) -> Tensor { computed(b) { a - $0[0] } }
  /// Each element times `b`.
  public static func * (a: Tensor, b: Double) -> Tensor { computed(a) { $0[0] * b } }
  /// `a` times each element.
  public static func * (a: Double, b: Tensor) -> Tensor { computed(b) { a * $0[0] } }
  /// Each element divided by `b`.
  public static func / (a: Tensor, b: Double) -> Tensor { computed(a) { $0[0] / b } }
  /// `a` divided by each element.
  public static func / (a: Double, b: Tensor) -> Tensor { computed(b) { a / $0[0] } }

  public static func += (a: inout Tensor, b: Tensor) { a = a + b }
  public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
  public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
  public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
  public static func *= (a: inout Tensor, b: Double) { a = a * b }

  /// The matrix product of two matrices (rank 2), optionally transposing either.
  public func matmul(
    _ other: Tensor, transposingSelf: Bool = false, transposingOther: Bool = false
  ) -> Tensor {
    Tensor.computed(self, other) {
      $0[0].matmul($0[1], transposingSelf: transposingSelf, transposingOther: transposingOther)
    }
  }

  /// The transpose of a matrix.
  public func transposed() -> Tensor { Tensor.computed(self) { $0[0].transposed() } }

  /// The sum of all elements, as a rank-0 tensor.
  public func sum() -> Tensor { Tensor.computed(self) { $0[0].sum() } }
  /// The sums along `axis`.
  public func sum(along axis: Int, keepingDimensions: Bool = false) -> Tensor {
    Tensor.computed(self) { $0[0].sum(along: axis, keepingDimensions: keepingDimensions) }
  }
  /// The mean of all elements, as a rank-0 tensor.
  public func mean() -> Tensor { Tensor.computed(self) { $0[0].mean() } }
  /// The means along `axis`.
  public func mean(along axis: Int, keepingDimensions: Bool = false) -> Tensor {
    Tensor.computed(self) { $0[0].mean(along: axis, keepingDimensions: keepingDimensions) }
  }
  /// The largest element, as a rank-0 tensor.
  public func max() -> Tensor { Tensor.computed(self) { $0[0].max() } }
  /// The largest elements along `axis`.
  public func max(along axis: Int, keepingDimensions: Bool = false) -> Tensor {
    Tensor.computed(self) { $0[0].max(along: axis, keepingDimensions: keepingDimensions) }
  }

  /// `body` applied to every element, keeping the shape and the dtype.
  public func map(_ body: (Double) throws -> Double) rethrows -> Tensor {
    var result = self
    result.makeUnique()
    for i in 0..<count { result[flat: i] = try body(self[flat: i]) }
    return result
  }

  /// The identity matrix of size `n`.
  public static func eye(_ n: Int, dtype: DType = .default) -> Tensor {
    require(n >= 0, "Tensor.eye: size \(n) is negative")
    var identity = Tensor.zeros([n, n], dtype: dtype)
    for i in 0..<n { identity[flat: i * n + i] = 1 }
    return identity
  }

  /// The tensors joined along `axis`; all other dimensions must agree.
  public static func concatenated(_ parts: [Tensor], along axis: Int = 0) -> Tensor {
    require(!parts.isEmpty, "Tensor.concatenated: no tensors")
    return noGrad { Var.concatenate(parts.map { Var.constant($0) }, along: axis).value }
  }

  /// The tensors stacked along a new axis `axis`; their shapes must agree.
  public static func stacked(_ parts: [Tensor], along axis: Int = 0) -> Tensor {
    require(!parts.isEmpty, "Tensor.stacked: no tensors")
    return noGrad { Var.stack(parts.map { Var.constant($0) }, along: axis).value }
  }
}
