extension Var {
  /// The sum of all elements, a scalar (shape `[]`).
  ///
  /// Backward: ∂L/∂x = s broadcast to x's shape (every element gets s).
  public func sum() -> Var {
    Var(
      op: "sum", args: [self],
      forward: { args, value in
        Kernels.sum(args[0].value, axis: nil, keepingDimensions: false, into: &value)
      },
      vectorJacobianProduct: { args, _, s in [s.broadcast(to: args[0].shape)] },
      backward: { args, _, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.addBroadcast(s, into: g, shape: args[0].shape, axis: nil)
      })
  }

  /// The sum along `axis`, which is removed unless `keepingDimensions` (then it has length 1).
  ///
  /// Backward: ∂L/∂x = s broadcast back along `axis`.
  public func sum(along axis: Int, keepingDimensions: Bool = false) -> Var {
    let axis = normalizedAxis(axis, op: "sum")
    return Var(
      op: "sum", args: [self],
      forward: { args, value in
        Kernels.sum(args[0].value, axis: axis, keepingDimensions: keepingDimensions, into: &value)
      },
      vectorJacobianProduct: { args, _, s in
        [s.reshaped(keptShape(args[0].shape, axis)).broadcast(to: args[0].shape)]
      },
      backward: { args, _, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.addBroadcast(s, into: g, shape: args[0].shape, axis: axis)
      })
  }
}

/// `shape` with `axis` set to length 1.
func keptShape(_ shape: [Int], _ axis: Int) -> [Int] {
  var kept = shape
  kept[axis] = 1
  return kept
}

extension Kernels {
  /// The extents before, along and after `axis`: a tensor seen as [outer, length, inner].
  static func split(_ shape: [Int], _ axis: Int) -> (outer: Int, length: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
  }

  static func sum(_ x: Tensor, axis: Int?, keepingDimensions: Bool, into out: inout Tensor) {
    let shape: [Int]
    if let axis {
      var s = x.shape
      if keepingDimensions { s[axis] = 1 } else { s.remove(at: axis) }
      shape = s
    } else {
      shape = []
    }
    out.prepare(shape: shape, dtype: x.dtype)
    let (outer, length, inner) = axis.map { split(x.shape, $0) } ?? (1, x.count, 1)
    switch x.dtype {
    case .float32: sum(Float.self, x, &out, outer, length, inner)
    case .float64: sum(Double.self, x, &out, outer, length, inner)
    }
  }

  private static func sum<T: TensorScalar>(
    _: T.Type, _ x: Tensor, _ out: inout Tensor, _ outer: Int, _ length: Int, _ inner: Int
  ) {
    let xp = x.pointer(as: T.self)
    let yp = out.pointer(as: T.self)
    for o in 0..<outer {
      let y = yp + o * inner
      let base = xp + o * length * inner
      if inner == 1 {
        var total = T.zero
        for l in 0..<length { total += base[l] }
        y[0] = total
      } else {
        y.update(repeating: 0, count: inner)
        for l in 0..<length {
          let row = base + l * inner
          for i in 0..<inner { y[i] += row[i] }
        }
      }
    }
    withExtendedLifetime(x) {}
  }

  /// g[o, l, i] += s[o, i]: a reduction's upstream gradient spread back along `axis`
  /// (over everything when `axis` is nil).
  static func addBroadcast(_ s: Tensor, into g: UnsafeMutableRawPointer, shape: [Int], axis: Int?) {
    let (outer, length, inner) = axis.map { split(shape, $0) } ?? (1, shape.reduce(1, *), 1)
    switch s.dtype {
    case .float32: addBroadcast(Float.self, s, g, outer, length, inner)
    case .float64: addBroadcast(Double.self, s, g, outer, length, inner)
    }
  }

  private static func addBroadcast<T: TensorScalar>(
    _: T.Type, _ s: Tensor, _ g: UnsafeMutableRawPointer, _ outer: Int, _ length: Int, _ inner: Int
  ) {
    let sp = s.pointer(as: T.self)
    let gp = g.assumingMemoryBound(to: T.self)
    for o in 0..<outer {
      let src = sp + o * inner
      for l in 0..<length {
        let row = gp + (o * length + l) * inner
        for i in 0..<inner { row[i] += src[i] }
      }
    }
    withExtendedLifetime(s) {}
  }
}

extension GradientCheck {
  static let sum = GradientCheck("sum", inputs: [.init([3, 4])]) {
    $0[0].sum() * $0[0]
  }
  static let sumAlongAxis = GradientCheck("sum (axis)", inputs: [.init([2, 3, 4])]) {
    $0[0].sum(along: 1)
  }
  static let sumKeepingDimensions = GradientCheck(
    "sum (axis, keeping dimensions)", inputs: [.init([3, 4])]
  ) { $0[0].sum(along: 1, keepingDimensions: true) * $0[0] }
}
