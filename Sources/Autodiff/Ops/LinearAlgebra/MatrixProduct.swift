extension Var {
  /// Returns the matrix product of this node and `other`.
  ///
  /// Backward, for the upstream gradient s (shape [m, n]):
  /// ```
  /// ∂L/∂self  = s · otherᵀ
  /// ∂L/∂other = selfᵀ · s
  /// ```
  /// The transposed products run without materializing a transpose.
  ///
  /// This node may also have more than two axes, `[…, m, k]`: its rows are then all the
  /// vectors along its last axis, and the product is `[…, m, n]`, as a ``Linear`` layer
  /// applies to every step of a sequence `[batch, time, features]`.
  ///
  /// - Parameter other: A matrix with as many rows as this one has columns.
  /// - Returns: A node of shape `[rows, other.columns]`.
  /// - Complexity: O(rows · columns · other.columns).
  public func matmul(_ other: Var) -> Var {
    matmul(other, transposingSelf: false, transposingOther: false)
  }

  /// The product op(self) · op(other), where op transposes when asked: `a.matmul(b,
  /// transposingOther: true)` is a·bᵀ without forming bᵀ.
  ///
  /// Backward, with C = op(A)·op(B) and upstream s:
  /// ```
  /// C = A·B:   ∂A = s·Bᵀ,   ∂B = Aᵀ·s
  /// C = A·Bᵀ:  ∂A = s·B,    ∂B = sᵀ·A
  /// C = Aᵀ·B:  ∂A = B·sᵀ,   ∂B = A·s
  /// C = Aᵀ·Bᵀ: ∂A = Bᵀ·sᵀ,  ∂B = sᵀ·Aᵀ
  /// ```
  public func matmul(
    _ other: Var, transposingSelf ta: Bool = false, transposingOther tb: Bool = false
  )
    -> Var
  {
    let name = "matmul"
    require(
      (rank == 2 || (rank > 2 && !ta)) && other.rank == 2,
      "\(name): \(shape)\(ta ? "ᵀ" : "") × \(other.shape)\(tb ? "ᵀ" : ""): the right operand must be a matrix, and the left one a matrix or (untransposed) a stack of rows [..., k]"
    )
    return Var(
      op: name, args: [self, other], infix: ta || tb ? nil : "·",
      forward: { args, value in
        Kernels.matrixProduct(args[0].value, args[1].value, ta, tb, into: &value, op: name)
      },
      vectorJacobianProduct: { args, _, s in
        let (a, b) = (args[0], args[1])
        if a.rank > 2 {
          // The rows of a and s, as matrices.
          let (rows, upstream) = (
            a.reshaped([-1, a.shape.last!]), s.reshaped([-1, s.shape.last!])
          )
          return [
            s.matmul(b, transposingOther: !tb),
            tb
              ? upstream.matmul(rows, transposingSelf: true)
              : rows.matmul(upstream, transposingSelf: true),
          ]
        }
        switch (ta, tb) {
        case (false, false):
          return [s.matmul(b, transposingOther: true), a.matmul(s, transposingSelf: true)]
        case (false, true):
          return [s.matmul(b), s.matmul(a, transposingSelf: true)]
        case (true, false):
          return [b.matmul(s, transposingOther: true), a.matmul(s)]
        case (true, true):
          return [
            b.matmul(s, transposingSelf: true, transposingOther: true),
            s.matmul(a, transposingSelf: true, transposingOther: true),
          ]
        }
      },
      backward: { args, _, s in
        let (a, b) = (args[0], args[1])
        if let ga = a.gradientPointer() {
          switch (ta, tb) {
          case (false, false): Kernels.gemmInto(ga, s, false, b.value, true)
          case (false, true): Kernels.gemmInto(ga, s, false, b.value, false)
          case (true, false): Kernels.gemmInto(ga, b.value, false, s, true)
          case (true, true): Kernels.gemmInto(ga, b.value, true, s, true)
          }
        }
        if let gb = b.gradientPointer() {
          switch (ta, tb) {
          case (false, false): Kernels.gemmInto(gb, a.value, true, s, false)
          case (false, true): Kernels.gemmInto(gb, s, true, a.value, false)
          case (true, false): Kernels.gemmInto(gb, a.value, false, s, false)
          case (true, true): Kernels.gemmInto(gb, s, true, a.value, true)
          }
        }
      })
  }
}

extension Kernels {
  /// value = op(a) · op(b), with a shape check that names both shapes. `a` may be a stack
  /// of rows `[…, k]` (untransposed): the product is then `[…, n]`.
  static func matrixProduct(
    _ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, into value: inout Tensor, op: String
  ) {
    require(
      a.rank >= 2 && b.rank == 2 && (a.rank == 2 || !ta),
      "\(op): \(a.shape) × \(b.shape): the operands must be matrices (or rows [..., k] × a matrix)")
    require(a.dtype == b.dtype, "\(op): dtypes \(a.dtype) and \(b.dtype) differ")
    let (rows, columns) = matrixView(a)
    let (m, k) = ta ? (columns, rows) : (rows, columns)
    let (k2, n) = tb ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    require(
      k == k2,
      "\(op): \(a.shape)\(ta ? "ᵀ" : "") × \(b.shape)\(tb ? "ᵀ" : ""): inner dimensions \(k) and \(k2) differ"
    )
    value.prepare(shape: ta ? [m, n] : Array(a.shape.dropLast()) + [n], dtype: a.dtype)
    gemm(a, ta, b, tb, m: m, n: n, k: k, into: value.buffer.pointer, accumulate: false)
  }

  /// A tensor seen as a matrix: all its vectors along the last axis as rows.
  static func matrixView(_ t: Tensor) -> (rows: Int, columns: Int) {
    let columns = t.shape.last ?? 1
    return (columns == 0 ? 0 : t.count / columns, columns)
  }

  /// c += op(a) · op(b), where c is the storage of a matrix of the product's shape; `a` and
  /// `b` are seen as matrices by ``matrixView(_:)``.
  static func gemmInto(
    _ c: UnsafeMutableRawPointer, _ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool
  ) {
    let (rows, columns) = matrixView(a)
    let (m, k) = ta ? (columns, rows) : (rows, columns)
    let n = tb ? matrixView(b).rows : matrixView(b).columns
    gemm(a, ta, b, tb, m: m, n: n, k: k, into: c, accumulate: true)
  }

  private static func gemm(
    _ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool, m: Int, n: Int, k: Int,
    into c: UnsafeMutableRawPointer, accumulate: Bool
  ) {
    let (lda, ldb) = (matrixView(a).columns, matrixView(b).columns)
    switch a.dtype {
    case .float32:
      gemm(
        Float.self, transA: ta, transB: tb, m: m, n: n, k: k, a: a.pointer(as: Float.self),
        lda: lda, b: b.pointer(as: Float.self), ldb: ldb,
        c: c.assumingMemoryBound(to: Float.self), ldc: n, accumulate: accumulate)
    case .float64:
      gemm(
        Double.self, transA: ta, transB: tb, m: m, n: n, k: k, a: a.pointer(as: Double.self),
        lda: lda, b: b.pointer(as: Double.self), ldb: ldb,
        c: c.assumingMemoryBound(to: Double.self), ldc: n, accumulate: accumulate)
    }
    withExtendedLifetime((a, b)) {}
  }
}

extension GradientCheck {
  static let matmul = GradientCheck("matmul", inputs: [.init([3, 4]), .init([4, 5])]) {
    $0[0].matmul($0[1])
  }
  static let matmulLarge = GradientCheck(
    "matmul (blocked kernel)", inputs: [.init([13, 70]), .init([70, 9])], secondOrder: false
  ) { $0[0].matmul($0[1]) }
  static let matmulTransposedA = GradientCheck(
    "matmul (Aᵀ·B)", inputs: [.init([4, 3]), .init([4, 5])]
  ) { $0[0].matmul($0[1], transposingSelf: true) }
  static let matmulTransposedB = GradientCheck(
    "matmul (A·Bᵀ)", inputs: [.init([3, 4]), .init([5, 4])]
  ) { $0[0].matmul($0[1], transposingOther: true) }
  static let matmulRows = GradientCheck(
    "matmul (rows [b, t, k] × [k, n])", inputs: [.init([2, 3, 4]), .init([4, 5])]
  ) { $0[0].matmul($0[1]) }
  static let matmulRowsTransposed = GradientCheck(
    "matmul (rows [b, t, k] × [n, k]ᵀ)", inputs: [.init([2, 3, 4]), .init([5, 4])]
  ) { $0[0].matmul($0[1], transposingOther: true) }
  static let matmulTransposedBoth = GradientCheck(
    "matmul (Aᵀ·Bᵀ)", inputs: [.init([4, 3]), .init([5, 4])]
  ) { $0[0].matmul($0[1], transposingSelf: true, transposingOther: true) }
}
