import Foundation

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
        value = Kernels.logSumExp(args[0].value, axis)
        if !keepingDimensions {
          var shape = args[0].shape
          shape.remove(at: axis)
          value = value.reshaped(shape)
        }
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
    let (outer, length, inner) = split(x.shape, axis)
    let (maxima, _) = maxAlongAxis(x, axis)
    var out = maxima
    out.makeUnique()
    for o in 0..<outer {
      for i in 0..<inner {
        let m = maxima[flat: o * inner + i]
        if !m.isFinite { continue }
        var total = 0.0
        for l in 0..<length { total += Foundation.exp(x[flat: (o * length + l) * inner + i] - m) }
        out[flat: o * inner + i] = m + Foundation.log(total)
      }
    }
    return out
  }
}

extension GradientCheck {
  public static let logSumExp = GradientCheck("logSumExp", inputs: [.init([3, 5])]) {
    $0[0].logSumExp(along: 1)
  }
}
