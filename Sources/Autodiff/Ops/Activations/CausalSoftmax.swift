extension Var {
  /// The softmax of `scale` times this node along its last axis, with a causal mask: the
  /// attention weights of queries (rows, the second-to-last axis) on keys (the last axis)
  /// where no query sees a key after it.
  ///
  /// For scores `[…, q, k]` with k ≥ q, query i sees keys j ≤ i + (k − q): the last query
  /// sees every key, and with as many queries as keys (self-attention) query i sees keys
  /// 0…i. It equals `(scale · x + M).softmax()` with Mᵢⱼ = −∞ on the masked entries, whose
  /// weights are exactly 0, but it builds no mask and skips the masked entries:
  /// ```
  /// yᵢⱼ = e^(scale · xᵢⱼ) / Σ_{l ≤ i + k − q} e^(scale · xᵢₗ)   for j ≤ i + k − q, else 0
  /// ```
  /// Backward, from the saved output y (0 on the masked entries, which therefore get no
  /// gradient):
  /// ```
  /// ∂L/∂x = scale · y ⊙ (s − Σⱼ sⱼ yⱼ)
  /// ```
  ///
  /// - Parameter scale: Multiplies the scores before the softmax (1/√d in a transformer).
  /// - Returns: A node of this node's shape whose rows sum to 1.
  /// - Precondition: At least two axes, and at least as many keys as queries.
  /// - Complexity: O(count), half of it for self-attention.
  public func causalSoftmax(scale: Double = 1) -> Var {
    let name = "causalSoftmax"
    Kernels.checkCausalShape(shape, op: name)
    return Var(
      op: name, args: [self],
      forward: { args, value in
        Kernels.causalSoftmax(args[0].value, scale: scale, into: &value, op: name)
      },
      vectorJacobianProduct: { _, y, s in
        [y * (s - (s * y).sum(along: -1, keepingDimensions: true)) * scale]
      },
      backward: { args, y, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.causalSoftmaxBackward(y.value, s, scale: scale, into: g)
      })
  }
}

extension Kernels {
  static func checkCausalShape(_ shape: [Int], op: String) {
    require(
      shape.count >= 2 && shape[shape.count - 1] >= shape[shape.count - 2],
      "\(op): scores of shape \(shape) are not [..., queries, keys] with at least as many keys as queries"
    )
  }

  /// The keys query `row` of `queries` sees among `keys`: 0 ..< visible.
  @inline(__always)
  static func visibleKeys(row: Int, queries: Int, keys: Int) -> Int {
    row + keys - queries + 1
  }

  /// out = the causal softmax of scale · x along the last axis.
  static func causalSoftmax(_ x: Tensor, scale: Double, into out: inout Tensor, op: String) {
    checkCausalShape(x.shape, op: op)
    out.prepare(shape: x.shape, dtype: x.dtype)
    switch x.dtype {
    case .float32: causalSoftmax(Float.self, x, Float(scale), &out)
    case .float64: causalSoftmax(Double.self, x, scale, &out)
    }
  }

  private static func causalSoftmax<T: TensorScalar>(
    _: T.Type, _ x: Tensor, _ scale: T, _ out: inout Tensor
  ) {
    let (queries, keys) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
    let matrices = x.count / Swift.max(1, queries * keys)
    let xp = x.pointer(as: T.self)
    let yp = out.pointer(as: T.self)
    for matrix in 0..<matrices {
      for row in 0..<queries {
        let offset = (matrix * queries + row) * keys
        causalSoftmaxRow(
          xp + offset, yp + offset, visible: visibleKeys(row: row, queries: queries, keys: keys),
          length: keys, scale: scale)
      }
    }
    withExtendedLifetime(x) {}
  }

  /// y[0..<visible] = softmax(scale · x[0..<visible]), y[visible..<length] = 0. `x` and
  /// `y` may be the same row.
  @inline(__always)
  static func causalSoftmaxRow<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, visible: Int, length: Int, scale: T
  ) {
    var m = -T.infinity
    for j in 0..<visible { m = Swift.max(m, scale * x[j]) }
    if !m.isFinite { m = 0 }
    for j in 0..<visible { y[j] = scale * x[j] - m }
    exponentiate(y, visible)
    var total = T.zero
    for j in 0..<visible { total += y[j] }
    let inverse = 1 / total
    for j in 0..<visible { y[j] *= inverse }
    for j in visible..<length { y[j] = 0 }
  }

  /// g += scale · y ⊙ (s − Σ s ⊙ y) on the visible entries of every row.
  static func causalSoftmaxBackward(
    _ y: Tensor, _ s: Tensor, scale: Double, into g: UnsafeMutableRawPointer
  ) {
    switch y.dtype {
    case .float32:
      causalSoftmaxBackward(Float.self, y, s, Float(scale), g.assumingMemoryBound(to: Float.self))
    case .float64:
      causalSoftmaxBackward(Double.self, y, s, scale, g.assumingMemoryBound(to: Double.self))
    }
  }

  private static func causalSoftmaxBackward<T: TensorScalar>(
    _: T.Type, _ y: Tensor, _ s: Tensor, _ scale: T, _ g: UnsafeMutablePointer<T>
  ) {
    let (queries, keys) = (y.shape[y.rank - 2], y.shape[y.rank - 1])
    let matrices = y.count / Swift.max(1, queries * keys)
    let yp = y.pointer(as: T.self)
    let sp = s.pointer(as: T.self)
    for matrix in 0..<matrices {
      for row in 0..<queries {
        let offset = (matrix * queries + row) * keys
        causalSoftmaxRowBackward(
          yp + offset, sp + offset, g + offset,
          visible: visibleKeys(row: row, queries: queries, keys: keys), scale: scale,
          accumulate: true)
      }
    }
    withExtendedLifetime((y, s)) {}
  }

  /// g (+)= scale · y ⊙ (s − Σ s ⊙ y) on the first `visible` entries of a row. `g` may be
  /// the row `s`.
  @inline(__always)
  static func causalSoftmaxRowBackward<T: TensorScalar>(
    _ y: UnsafePointer<T>, _ s: UnsafePointer<T>, _ g: UnsafeMutablePointer<T>, visible: Int,
    scale: T, accumulate: Bool
  ) {
    var dot = T.zero
    for j in 0..<visible { dot += s[j] * y[j] }
    if accumulate {
      for j in 0..<visible { g[j] += scale * y[j] * (s[j] - dot) }
    } else {
      for j in 0..<visible { g[j] = scale * y[j] * (s[j] - dot) }
    }
  }
}

extension GradientCheck {
  /// Self-attention scores of two sequences: square, query i sees keys 0…i.
  static let causalSoftmax = GradientCheck(
    "causalSoftmax", inputs: [.init([2, 4, 4])]
  ) { $0[0].causalSoftmax(scale: 0.7) }
  /// Fewer queries than keys: the last query sees every key.
  static let causalSoftmaxRectangular = GradientCheck(
    "causalSoftmax (2 queries, 5 keys)", inputs: [.init([2, 5])]
  ) { $0[0].causalSoftmax() }
}
