extension Var {
  /// The log-softmax along `axis`: x − ln Σ eˣ, computed stably (no softmax is formed, so
  /// tiny probabilities keep their logarithms).
  ///
  /// Backward, from the saved output y: ∂L/∂x = s − e^y ⊙ Σ s = s − softmax(x) Σ s.
  public func logSoftmax(along axis: Int = -1) -> Var {
    let axis = normalizedAxis(axis, op: "logSoftmax")
    return Var(
      op: "logSoftmax", args: [self],
      forward: { args, value in Kernels.softmax(args[0].value, axis, log: true, into: &value) },
      vectorJacobianProduct: { _, y, s in
        [s - y.exp() * s.sum(along: axis, keepingDimensions: true)]
      },
      backward: { args, y, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.softmaxBackward(y.value, s, axis, log: true, into: g)
      })
  }
}

extension GradientCheck {
  static let logSoftmax = GradientCheck("logSoftmax", inputs: [.init([3, 5], in: -4...4)]) {
    $0[0].logSoftmax()
  }
}
