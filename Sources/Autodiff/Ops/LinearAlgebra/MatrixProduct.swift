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
  /// Both operands may have more than two axes. When only this one does, `[…, m, k]`, its
  /// rows are all the vectors along its last axis, and the product is `[…, m, n]`, as a
  /// ``Linear`` layer applies to every step of a sequence `[batch, time, features]`. When
  /// `other` has more than two axes too, the product is batched: the last two axes of each
  /// operand are its matrices, the leading axes broadcast like NumPy's, and each pair of
  /// matrices is multiplied (`[b, h, t, d] × [b, h, d, s]` is `[b, h, t, s]`; see
  /// ``matmul(_:transposingSelf:transposingOther:)``).
  ///
  /// - Parameter other: A matrix (or a stack of them) with as many rows as this one has
  ///   columns.
  /// - Returns: A node of shape `[rows, other.columns]`, after the broadcast leading axes.
  /// - Complexity: O(rows · columns · other.columns) per pair of matrices.
  public func matmul(_ other: Var) -> Var {
    matmul(other, transposingSelf: false, transposingOther: false)
  }

  /// The product op(self) · op(other), where op transposes the last two axes when asked:
  /// `a.matmul(b, transposingOther: true)` is a·bᵀ without forming bᵀ.
  ///
  /// Backward, with C = op(A)·op(B) and upstream s:
  /// ```
  /// C = A·B:   ∂A = s·Bᵀ,   ∂B = Aᵀ·s
  /// C = A·Bᵀ:  ∂A = s·B,    ∂B = sᵀ·A
  /// C = Aᵀ·B:  ∂A = B·sᵀ,   ∂B = A·s
  /// C = Aᵀ·Bᵀ: ∂A = Bᵀ·sᵀ,  ∂B = sᵀ·Aᵀ
  /// ```
  ///
  /// **Batched products.** Operands of rank above two are stacks of matrices `[…, r, c]`.
  /// Their leading axes broadcast against each other (a missing or size-1 axis repeats the
  /// other operand's matrices), and the result holds one product per position of the
  /// broadcast leading shape:
  /// ```
  /// [b, h, t, d] × [b, h, s, d]ᵀ → [b, h, t, s]        [b, t, d] × [d, e] → [b, t, e]
  /// Cᵢ = op(A_a(i)) · op(B_b(i))
  /// ∂A_a = Σ_{i: a(i) = a} (the rule above for Cᵢ),   likewise ∂B_b
  /// ```
  /// An operand repeated over the broadcast axes receives the sum of its gradients over
  /// them. Each matrix product runs the packed kernel; stacks are split over threads by
  /// matrices. An untransposed `[…, m, k]` times a matrix `[k, n]` is computed as one
  /// product of all its rows.
  ///
  /// - Precondition: Both operands have at least two axes; the inner dimensions agree; the
  ///   leading axes broadcast.
  public func matmul(
    _ other: Var, transposingSelf ta: Bool = false, transposingOther tb: Bool = false
  )
    -> Var
  {
    let name = "matmul"
    Kernels.checkMatrixProduct(shape, other.shape, ta, tb, op: name)
    return Var(
      op: name, args: [self, other], infix: ta || tb ? nil : "·",
      forward: { args, value in
        Kernels.matrixProduct(args[0].value, args[1].value, ta, tb, into: &value, op: name)
      },
      vectorJacobianProduct: { args, _, s in
        let (a, b) = (args[0], args[1])
        if Kernels.isBatchedProduct(a.shape, b.shape, ta) {
          // The rules of the matrices, then the sum over the axes each operand was
          // repeated along.
          let (ga, gb) = Var.matrixProductRules(a, b, s, ta, tb)
          return [ga.sum(toShape: a.shape), gb.sum(toShape: b.shape)]
        }
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
        let (ga, gb) = Var.matrixProductRules(a, b, s, ta, tb)
        return [ga, gb]
      },
      backward: { args, _, s in
        let (a, b) = (args[0], args[1])
        if Kernels.isBatchedProduct(a.shape, b.shape, ta) {
          Kernels.batchedMatrixProductBackward(
            a.value, b.value, ta, tb, upstream: s, a.gradientPointer(), b.gradientPointer())
          return
        }
        let first: Kernels.GradientProduct =
          switch (ta, tb) {
          case (false, false): (a, s, false, b.value, true)
          case (false, true): (a, s, false, b.value, false)
          case (true, false): (a, b.value, false, s, true)
          case (true, true): (a, b.value, true, s, true)
          }
        let second: Kernels.GradientProduct =
          switch (ta, tb) {
          case (false, false): (b, a.value, true, s, false)
          case (false, true): (b, s, true, a.value, false)
          case (true, false): (b, a.value, false, s, false)
          case (true, true): (b, s, true, a.value, true)
          }
        Kernels.gemmIntoGradients(first, second)
      })
  }

  /// The four forms of the product's rule, on matrices or stacks of them (before any sum
  /// over broadcast axes).
  static func matrixProductRules(_ a: Var, _ b: Var, _ s: Var, _ ta: Bool, _ tb: Bool) -> (
    Var, Var
  ) {
    switch (ta, tb) {
    case (false, false):
      return (s.matmul(b, transposingOther: true), a.matmul(s, transposingSelf: true))
    case (false, true):
      return (s.matmul(b), s.matmul(a, transposingSelf: true))
    case (true, false):
      return (b.matmul(s, transposingOther: true), a.matmul(s))
    case (true, true):
      return (
        b.matmul(s, transposingSelf: true, transposingOther: true),
        s.matmul(a, transposingSelf: true, transposingOther: true)
      )
    }
  }
}

extension Kernels {
  /// value = op(a) · op(b), with a shape check that names both shapes. `a` may be a stack
  /// of rows `[…, k]` (untransposed): the product is then `[…, n]`. When `b` is a stack of
  /// matrices too, or `a` is transposed, the product is batched
  /// (``batchedMatrixProduct(_:_:_:_:into:op:)``).
  static func matrixProduct(
    _ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, into value: inout Tensor, op: String
  ) {
    checkMatrixProduct(a.shape, b.shape, ta, tb, op: op)
    require(a.dtype == b.dtype, "\(op): dtypes \(a.dtype) and \(b.dtype) differ")
    if isBatchedProduct(a.shape, b.shape, ta) {
      batchedMatrixProduct(a, b, ta, tb, into: &value, op: op)
      return
    }
    let (rows, columns) = matrixView(a)
    let (m, k) = ta ? (columns, rows) : (rows, columns)
    let n = tb ? b.shape[0] : b.shape[1]
    // The product's shape, formed only when it is not the shape the value already has.
    let keepsShape =
      value.rank == (ta ? 2 : a.rank) && value.shape.last == n
      && (ta ? value.shape[0] == m : value.shape.dropLast() == a.shape.dropLast())
    value.prepare(
      shape: keepsShape ? value.shape : ta ? [m, n] : Array(a.shape.dropLast()) + [n],
      dtype: a.dtype)
    gemm(a, ta, b, tb, m: m, n: n, k: k, into: value.buffer.pointer, accumulate: false)
  }

  /// Whether op(a) · op(b) is a batched product: `b` has more than two axes, or `a` has
  /// more than two and is transposed. (An untransposed stack `a` times a matrix is one
  /// product of all of a's rows.)
  static func isBatchedProduct(_ a: [Int], _ b: [Int], _ ta: Bool) -> Bool {
    b.count > 2 || (a.count > 2 && ta)
  }

  /// Stops with a message naming both shapes unless op(a) · op(b) is defined.
  static func checkMatrixProduct(_ a: [Int], _ b: [Int], _ ta: Bool, _ tb: Bool, op: String) {
    // Only formed for a message: this check runs on every product.
    var shapes: String { "\(a)\(ta ? "ᵀ" : "") × \(b)\(tb ? "ᵀ" : "")" }
    require(
      a.count >= 2 && b.count >= 2,
      "\(op): \(shapes): the operands must be matrices or stacks of matrices [..., rows, columns]"
    )
    let k = ta ? a[a.count - 2] : a[a.count - 1]
    let k2 = tb ? b[b.count - 1] : b[b.count - 2]
    require(k == k2, "\(op): \(shapes): inner dimensions \(k) and \(k2) differ")
    if isBatchedProduct(a, b, ta) {
      _ = broadcastShape(Array(a.dropLast(2)), Array(b.dropLast(2)), op: "\(op): \(shapes)")
    }
  }

  /// A tensor seen as a matrix: all its vectors along the last axis as rows.
  static func matrixView(_ t: Tensor) -> (rows: Int, columns: Int) {
    // The rows are counted from the leading axes, not as count / columns: a tensor with no
    // columns ([3, 0]) still has its rows, and a product with it its shape.
    let shape = t.shape
    var rows = 1
    for axis in 0..<Swift.max(shape.count - 1, 0) { rows *= shape[axis] }
    return (rows, shape.last ?? 1)
  }

  /// c += op(a) · op(b), where c is the storage of a matrix of the product's shape; `a` and
  /// `b` are seen as matrices by ``matrixView(_:)``. When `accumulate` is false, c is
  /// overwritten.
  static func gemmInto(
    _ c: UnsafeMutableRawPointer, _ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool,
    accumulate: Bool = true
  ) {
    let (rows, columns) = matrixView(a)
    let (m, k) = ta ? (columns, rows) : (rows, columns)
    let n = tb ? matrixView(b).rows : matrixView(b).columns
    gemm(a, ta, b, tb, m: m, n: n, k: k, into: c, accumulate: accumulate)
  }

  /// One product of a backward rule: op(a) · op(b), for the gradient of `node`.
  typealias GradientProduct = (node: Var, a: Tensor, ta: Bool, b: Tensor, tb: Bool)

  /// The two products of a product's backward rule, each as by
  /// ``gemmIntoGradient(of:_:_:_:_:)``. With two or more threads, two products that are
  /// each too small to split but not tiny (the smaller at least 1/32 of the threading
  /// threshold, as for an output layer's input and weight gradients) run at the same time,
  /// one per thread. Each is computed exactly as it would be alone.
  static func gemmIntoGradients(_ first: GradientProduct, _ second: GradientProduct) {
    func work(_ p: GradientProduct) -> Int {
      let (rows, columns) = matrixView(p.a)
      return rows * columns * (p.tb ? matrixView(p.b).rows : matrixView(p.b).columns)
    }
    let threshold = ComputeSettings.minimumParallelWork
    guard ComputeSettings.threads >= 2, first.node !== second.node,
      first.node.requiresGrad, second.node.requiresGrad,
      max(work(first), work(second)) < threshold, 32 * min(work(first), work(second)) >= threshold
    else {
      gemmIntoGradient(of: first.node, first.a, first.ta, first.b, first.tb)
      gemmIntoGradient(of: second.node, second.a, second.ta, second.b, second.tb)
      return
    }
    // Both destinations are taken here, on the calling thread: taking one marks a stale
    // gradient as written.
    let destinations = UnsafeSendable(
      [first.node.gradientDestination()!, second.node.gradientDestination()!])
    let operands = [
      (first.a, first.ta, first.b, first.tb), (second.a, second.ta, second.b, second.tb),
    ]
    forEachPart(units: 2, work: .max) { part, _ in
      let (a, ta, b, tb) = operands[part]
      let destination = destinations.pointer[part]
      gemmInto(destination.pointer, a, ta, b, tb, accumulate: !destination.overwrite)
    }
  }

  /// Adds op(a) · op(b) to the gradient of `node`, or writes it there when the gradient is
  /// stale (zero), without zeroing the storage first.
  static func gemmIntoGradient(
    of node: Var, _ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool
  ) {
    guard let destination = node.gradientDestination() else { return }
    gemmInto(destination.pointer, a, ta, b, tb, accumulate: !destination.overwrite)
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
        c: c.assumingMemoryBound(to: Float.self), ldc: n, accumulate: accumulate,
        bStorage: b.buffer)
    case .float64:
      gemm(
        Double.self, transA: ta, transB: tb, m: m, n: n, k: k, a: a.pointer(as: Double.self),
        lda: lda, b: b.pointer(as: Double.self), ldb: ldb,
        c: c.assumingMemoryBound(to: Double.self), ldc: n, accumulate: accumulate,
        bStorage: b.buffer)
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
  static let matmulBatched = GradientCheck(
    "matmul (batched [b, h, t, d] × [b, h, d, s])",
    inputs: [.init([2, 2, 3, 4]), .init([2, 2, 4, 3])]
  ) { $0[0].matmul($0[1]) }
  static let matmulBatchedTransposedB = GradientCheck(
    "matmul (batched A·Bᵀ)", inputs: [.init([2, 3, 4]), .init([2, 5, 4])]
  ) { $0[0].matmul($0[1], transposingOther: true) }
  static let matmulBatchedTransposedA = GradientCheck(
    "matmul (batched Aᵀ·B)", inputs: [.init([2, 4, 3]), .init([2, 4, 5])]
  ) { $0[0].matmul($0[1], transposingSelf: true) }
  static let matmulBatchedTransposedBoth = GradientCheck(
    "matmul (batched Aᵀ·Bᵀ)", inputs: [.init([2, 4, 3]), .init([2, 5, 4])]
  ) { $0[0].matmul($0[1], transposingSelf: true, transposingOther: true) }
  /// Both operands repeated along a broadcast axis: [2, 1, 3, 4] × [3, 4, 2] → [2, 3, 3, 2].
  static let matmulBatchedBroadcast = GradientCheck(
    "matmul (batched, broadcast [2, 1, m, k] × [3, k, n])",
    inputs: [.init([2, 1, 3, 4]), .init([3, 4, 2])]
  ) { $0[0].matmul($0[1]) }
  /// A matrix times a stack: the matrix's gradient is summed over the stack.
  static let matmulMatrixTimesStack = GradientCheck(
    "matmul (batched [m, k] × [b, k, n])", inputs: [.init([3, 4]), .init([2, 4, 5])]
  ) { $0[0].matmul($0[1]) }
  /// A transposed stack times a matrix: batched, the matrix's gradient summed over it.
  static let matmulStackTransposedTimesMatrix = GradientCheck(
    "matmul (batched [b, k, m]ᵀ × [k, n])", inputs: [.init([2, 4, 3]), .init([4, 5])]
  ) { $0[0].matmul($0[1], transposingSelf: true) }
  /// A matrix times a transposed stack: the matrix's gradient is summed over the stack.
  static let matmulMatrixTimesStackTransposed = GradientCheck(
    "matmul (batched [m, k] × [b, n, k]ᵀ)", inputs: [.init([3, 4]), .init([2, 5, 4])]
  ) { $0[0].matmul($0[1], transposingOther: true) }
  /// Broadcast leading axes with both operands transposed: [2, 1, k, m]ᵀ × [3, n, k]ᵀ.
  static let matmulBatchedBroadcastTransposedBoth = GradientCheck(
    "matmul (batched, broadcast [2, 1, k, m]ᵀ × [3, n, k]ᵀ)",
    inputs: [.init([2, 1, 4, 3]), .init([3, 2, 4])]
  ) { $0[0].matmul($0[1], transposingSelf: true, transposingOther: true) }
  static let matmulTransposedBoth = GradientCheck(
    "matmul (Aᵀ·Bᵀ)", inputs: [.init([4, 3]), .init([5, 4])]
  ) { $0[0].matmul($0[1], transposingSelf: true, transposingOther: true) }
}
