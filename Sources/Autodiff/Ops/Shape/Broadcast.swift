extension Var {
  /// Repeats this node's value along stretched axes to `shape` (NumPy broadcasting).
  ///
  /// Backward: ∂L/∂x = `s.sum(toShape: x.shape)`, the upstream gradient summed over the
  /// stretched axes.
  public func broadcast(to shape: [Int]) -> Var {
    if self.shape == shape { return self }
    let target = shape
    require(
      broadcastShape(self.shape, shape, op: "broadcast") == shape,
      "broadcast: shape \(self.shape) cannot be broadcast to \(shape)")
    return Var(
      op: "broadcast", args: [self],
      forward: { args, value in Kernels.broadcast(args[0].value, to: target, into: &value) },
      vectorJacobianProduct: { args, _, s in [s.sum(toShape: args[0].shape)] },
      backward: { args, _, s in args[0].accumulateGradient(Kernels.sum(s, toShape: args[0].shape)) }
    )
  }

  /// Sums over the axes along which `shape` was broadcast to this node's shape: the inverse
  /// of ``broadcast(to:)``, which is how a bias added to every row gets its gradient.
  ///
  /// Backward: ∂L/∂x = `s.broadcast(to: x.shape)`.
  public func sum(toShape shape: [Int]) -> Var {
    if self.shape == shape { return self }
    let target = shape
    return Var(
      op: "sumToShape", args: [self],
      forward: { args, value in value.assign(Kernels.sum(args[0].value, toShape: target)) },
      vectorJacobianProduct: { args, _, s in [s.broadcast(to: args[0].shape)] })
  }
}

extension Kernels {
  /// out = x repeated along stretched axes to `shape`.
  static func broadcast(_ x: Tensor, to shape: [Int], into out: inout Tensor) {
    out.prepare(shape: shape, dtype: x.dtype)
    switch x.dtype {
    case .float32: broadcast(Float.self, x, &out)
    case .float64: broadcast(Double.self, x, &out)
    }
  }

  private static func broadcast<T: TensorScalar>(_: T.Type, _ x: Tensor, _ out: inout Tensor) {
    let xp = x.pointer(as: T.self)
    let yp = out.pointer(as: T.self)
    let walk = BroadcastWalk(outShape: out.shape, a: x.shape, b: x.shape)
    let m = walk.rowLength
    let sx = walk.aRowStride
    walk.forEachRow { row, off, _ in
      for j in 0..<m { yp[row * m + j] = xp[off + j * sx] }
    }
    withExtendedLifetime(x) {}
  }

  /// The sum of `s` over the axes along which `shape` broadcasts to `s.shape`.
  static func sum(_ s: Tensor, toShape shape: [Int]) -> Tensor {
    if s.shape == shape { return s }
    require(
      broadcastShape(shape, s.shape, op: "sumToShape") == s.shape,
      "sumToShape: \(s.shape) does not reduce to \(shape)")
    var out = Tensor.zeros(shape, dtype: s.dtype)
    if shape.count == 1 && s.rank >= 1 && s.shape.last! == shape[0] {
      // Column sums: the gradient of a bias broadcast over rows.
      switch s.dtype {
      case .float32: columnSums(Float.self, s, &out)
      case .float64: columnSums(Double.self, s, &out)
      }
      return out
    }
    switch s.dtype {
    case .float32: sum(Float.self, s, &out)
    case .float64: sum(Double.self, s, &out)
    }
    return out
  }

  /// Whether a tensor of `shape` is a row vector broadcast over the rows of one of
  /// `other`: `[n]` against `[…, n]` (a bias added to every row).
  static func isRowVector(_ shape: [Int], of other: [Int]) -> Bool {
    shape.count == 1 && other.count >= 1 && other[other.count - 1] == shape[0]
  }

  /// g[j] += Σ_rows s[row, j]: the gradient of a bias broadcast over the rows of `s`,
  /// added into the bias's gradient storage `g` (of s's dtype), row after row.
  static func addColumnSums(_ s: Tensor, into g: UnsafeMutableRawPointer) {
    let m = s.shape.last ?? 1
    switch s.dtype {
    case .float32: columnSums(Float.self, s, into: g.assumingMemoryBound(to: Float.self), m)
    case .float64: columnSums(Double.self, s, into: g.assumingMemoryBound(to: Double.self), m)
    }
  }

  private static func columnSums<T: TensorScalar>(_: T.Type, _ s: Tensor, _ out: inout Tensor) {
    columnSums(T.self, s, into: out.pointer(as: T.self), out.count)
  }

  private static func columnSums<T: TensorScalar>(
    _: T.Type, _ s: Tensor, into op: UnsafeMutablePointer<T>, _ m: Int
  ) {
    let sp = s.pointer(as: T.self)
    for row in 0..<(s.count / Swift.max(m, 1)) {
      let r = sp + row * m
      for j in 0..<m { op[j] += r[j] }
    }
    withExtendedLifetime(s) {}
  }

  private static func sum<T: TensorScalar>(_: T.Type, _ s: Tensor, _ out: inout Tensor) {
    let sp = s.pointer(as: T.self)
    let op = out.pointer(as: T.self)
    let walk = BroadcastWalk(outShape: s.shape, a: out.shape, b: out.shape)
    let m = walk.rowLength
    let so = walk.aRowStride
    walk.forEachRow { row, off, _ in
      if so == 0 {
        var total = T.zero
        for j in 0..<m { total += sp[row * m + j] }
        op[off] += total
      } else {
        for j in 0..<m { op[off + j] += sp[row * m + j] }
      }
    }
    withExtendedLifetime(s) {}
  }
}

extension Var {
  @available(*, deprecated, renamed: "sum(toShape:)")
  public func summed(toShape shape: [Int]) -> Var { sum(toShape: shape) }
}

extension GradientCheck {
  static let broadcast = GradientCheck("broadcast", inputs: [.init([3, 1])]) {
    $0[0].broadcast(to: [2, 3, 4])
  }
  static let sumToShape = GradientCheck("sumToShape", inputs: [.init([2, 3, 4])]) {
    $0[0].sum(toShape: [3, 1])
  }
}
