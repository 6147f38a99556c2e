extension Var {
  /// ln Σ eˣ along `axis`, computed stably as m + ln Σ e^(x − m) with m the maximum, so that
  /// large inputs do not overflow.
  ///
  /// Backward, from the saved output y: ∂L/∂x = s · e^(x − y) = s · softmax(x).
  public func logSumExp(along axis: Int, keepingDimensions: Bool = false) -> Var {
    let axis = normalizedAxis(axis, op: "logSumExp")
    return Var(
      op: "logSumExp", args: [self],
      forward: { args, value in
        var shape = args[0].shape
        if keepingDimensions { shape[axis] = 1 } else { shape.remove(at: axis) }
        value.assign(Kernels.logSumExp(args[0].value, axis).reshaped(shape))
      },
      vectorJacobianProduct: { args, y, s in
        let x = args[0]
        let kept = keptShape(x.shape, axis)
        return [s.reshaped(kept) * (x - y.reshaped(kept)).exp()]
      })
  }
}

extension Kernels {
  /// ln Σ eˣ along `axis`, kept with length 1.
  static func logSumExp(_ x: Tensor, _ axis: Int) -> Tensor {
    var (out, _) = maxAlongAxis(x, axis)
    out.makeUnique()
    switch x.dtype {
    case .float32: logSumExp(Float.self, x, &out, axis)
    case .float64: logSumExp(Double.self, x, &out, axis)
    }
    return out
  }

  /// Replaces each maximum m in `out` by m + ln Σ e^(x − m).
  private static func logSumExp<T: TensorScalar>(
    _: T.Type, _ x: Tensor, _ out: inout Tensor, _ axis: Int
  ) {
    let (outer, length, inner) = split(x.shape, axis)
    let (xp, yp) = (x.pointer(as: T.self), out.pointer(as: T.self))
    for o in 0..<outer {
      for i in 0..<inner {
        let m = yp[o * inner + i]
        if !m.isFinite { continue }
        var total = T.zero
        for l in 0..<length { total += T.exp(xp[(o * length + l) * inner + i] - m) }
        yp[o * inner + i] = m + T.log(total)
      }
    }
    withExtendedLifetime(x) {}
  }
}

extension GradientCheck {
  static let logSumExp = GradientCheck("logSumExp", inputs: [.init([3, 5])]) {
    $0[0].logSumExp(along: 1)
  }
}
