extension Var {
  /// The largest element, a scalar.
  ///
  /// Backward: s flows to the first position of the maximum; the others get zero.
  public func max() -> Var {
    flattened().max(along: 0)
  }

  /// The largest element along `axis`.
  ///
  /// Backward: s flows to the first position of each maximum along `axis`.
  public func max(along axis: Int, keepingDimensions: Bool = false) -> Var {
    let axis = normalizedAxis(axis, op: "max")
    return Var(
      op: "max", args: [self],
      forward: { args, value in
        let (values, _) = Kernels.maxAlongAxis(args[0].value, axis)
        value =
          keepingDimensions
          ? values
          : values.reshaped(values.shape.enumerated().filter { $0.offset != axis }.map(\.element))
      },
      vectorJacobianProduct: { args, _, s in
        let x = args[0].value
        let (_, positions) = Kernels.maxAlongAxis(x, axis)
        var mask = Tensor.zeros(x.shape, dtype: x.dtype)
        let (outer, length, inner) = Kernels.split(x.shape, axis)
        for o in 0..<outer {
          for i in 0..<inner {
            mask[flat: (o * length + positions[o * inner + i]) * inner + i] = 1
          }
        }
        return [s.reshaped(keptShape(x.shape, axis)).broadcast(to: x.shape) * Var.constant(mask)]
      })
  }
}

extension Kernels {
  /// The maxima along `axis` (kept with length 1) and the first position of each.
  static func maxAlongAxis(_ x: Tensor, _ axis: Int) -> (Tensor, [Int]) {
    let (outer, length, inner) = split(x.shape, axis)
    precondition(length > 0, "max: empty axis \(axis) in shape \(x.shape)")
    var values = Tensor.zeros(keptShape(x.shape, axis), dtype: x.dtype)
    var positions = [Int](repeating: 0, count: outer * inner)
    for o in 0..<outer {
      for i in 0..<inner {
        var best = x[flat: o * length * inner + i]
        var at = 0
        for l in 1..<length {
          let v = x[flat: (o * length + l) * inner + i]
          if v > best || best.isNaN {
            best = v
            at = l
          }
        }
        values[flat: o * inner + i] = best
        positions[o * inner + i] = at
      }
    }
    return (values, positions)
  }
}

extension GradientCheck {
  public static let max = GradientCheck("max", inputs: [.init([3, 4])]) { $0[0].max() }
  public static let maxAlongAxis = GradientCheck("max (axis)", inputs: [.init([3, 4])]) {
    $0[0].max(along: 1)
  }
}
