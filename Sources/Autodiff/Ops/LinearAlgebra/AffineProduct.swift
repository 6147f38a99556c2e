extension Var {
  /// The affine map self · op(other) + bias, with the bias added to every row: a dense
  /// layer's `x·W + b` as one op.
  ///
  /// The value and the three gradients are exactly those of `matmul(other) + bias` (the
  /// same product, then the same additions in the same order); one op instead of two saves
  /// a node, its tensor and its rules' overhead at every step, which weighs on small layers.
  ///
  /// Backward, for the upstream gradient s (shape […, n]) and the rows X of self:
  /// ```
  /// ∂L/∂self  = s · op(other)ᵀ
  /// ∂L/∂other = Xᵀ · s            (sᵀ · X when other is transposed)
  /// ∂L/∂bias  = Σ_rows s
  /// ```
  ///
  /// Anything else than a stack of rows `[…, k]` times a matrix with a bias `[n]`, all of
  /// one dtype (a batched product, a bias of another shape, mixed dtypes, whose promotion
  /// would otherwise move the product itself to `Double`), gets the two-op form
  /// `matmul(other, transposingOther:) + bias`, which broadcasts and promotes as `+` does.
  ///
  /// - Parameters:
  ///   - other: A matrix `[k, n]` (`[n, k]` when transposed).
  ///   - transposingOther: Whether to multiply by otherᵀ, without forming it.
  ///   - bias: The vector `[n]` added to every row of the product.
  public func matmul(_ other: Var, transposingOther tb: Bool = false, plus bias: Var) -> Var {
    let name = "matmul+bias"
    guard rank >= 2, other.rank == 2, other.dtype == dtype, bias.dtype == dtype,
      Kernels.isRowVector(bias.shape, of: [tb ? other.shape[0] : other.shape[1]])
    else { return matmul(other, transposingOther: tb) + bias }
    Kernels.checkMatrixProduct(shape, other.shape, false, tb, op: name)
    return Var(
      op: name, args: [self, other, bias],
      forward: { args, value in
        Kernels.matrixProduct(args[0].value, args[1].value, false, tb, into: &value, op: name)
        Kernels.addToEveryRow(args[2].value, of: &value, op: name)
      },
      vectorJacobianProduct: { args, _, s in
        let (x, w, b) = (args[0], args[1], args[2])
        let (rows, upstream) = (x.reshaped([-1, x.shape.last!]), s.reshaped([-1, s.shape.last!]))
        return [
          s.matmul(w, transposingOther: !tb),
          tb
            ? upstream.matmul(rows, transposingSelf: true)
            : rows.matmul(upstream, transposingSelf: true),
          upstream.sum(along: 0).reshaped(b.shape),
        ]
      },
      backward: { args, _, s in
        let (x, w, b) = (args[0], args[1], args[2])
        Kernels.gemmIntoGradients(
          (x, s, false, w.value, !tb),
          tb ? (w, s, true, x.value, false) : (w, x.value, true, s, false))
        if b.requiresGrad { b.withGradientBuffer { Kernels.addColumnSums(s, into: $0) } }
      })
  }
}

extension Kernels {
  /// value[r, j] = value[r, j] + bias[j] for every row r of `value` (seen as a matrix),
  /// in place.
  static func addToEveryRow(_ bias: Tensor, of value: inout Tensor, op: String) {
    let n = value.shape.last ?? 1
    require(
      bias.count == n && bias.dtype == value.dtype,
      "\(op): a bias of shape \(bias.shape) (\(bias.dtype)) for rows of \(n) (\(value.dtype))")
    value.makeUnique()
    switch value.dtype {
    case .float32: addToEveryRow(Float.self, bias, value.pointer(as: Float.self), value.count, n)
    case .float64:
      addToEveryRow(Double.self, bias, value.pointer(as: Double.self), value.count, n)
    }
  }

  private static func addToEveryRow<T: TensorScalar>(
    _: T.Type, _ bias: Tensor, _ out: UnsafeMutablePointer<T>, _ count: Int, _ n: Int
  ) {
    let b = bias.pointer(as: T.self)
    var row = out
    for _ in 0..<(count / Swift.max(n, 1)) {
      for j in 0..<n { row[j] = row[j] + b[j] }
      row += n
    }
    withExtendedLifetime(bias) {}
  }
}

extension GradientCheck {
  static let affineProduct = GradientCheck(
    "matmul+bias", inputs: [.init([4, 3]), .init([3, 5]), .init([5])]
  ) { $0[0].matmul($0[1], plus: $0[2]) }
  static let affineProductTransposed = GradientCheck(
    "matmul+bias (transposed weight, rows of a sequence)",
    inputs: [.init([2, 3, 4]), .init([5, 4]), .init([5])]
  ) { $0[0].matmul($0[1], transposingOther: true, plus: $0[2]) }
}
