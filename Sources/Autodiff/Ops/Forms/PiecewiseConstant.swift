extension Var {
  /// A node whose value is a locally constant function of its arguments, such as the mask
  /// [x > 0], recomputed from their current values on every evaluation. No gradient flows
  /// through it: its derivative is zero wherever it is defined.
  ///
  /// The differentiable rules of piecewise ops (relu, clamp, maximum, max, dropout…)
  /// multiply by such nodes rather than by constants, so that a gradient graph built with
  /// `createGraph: true` and evaluated again after ``set(_:)`` follows the branch taken at
  /// the new point, not the one taken when it was built.
  static func piecewiseConstant(
    _ name: String, args: [Var], forward: @escaping ForwardFunction
  ) -> Var {
    Var(
      op: name, args: args, forward: forward,
      vectorJacobianProduct: { args, _, _ in args.map { _ in nil } })
  }

  /// f′(x) as such a node, for a unary function whose derivative is piecewise constant
  /// (relu, leaky relu, clamp). The values come from the same `derivative` the fast rule
  /// uses, so the two rules agree everywhere, kinks included.
  func derivativeMask<F: UnaryFunction>(
    _ f: F.Type, name: String, p: Double = 0, q: Double = 0
  ) -> Var {
    .piecewiseConstant(name + "′", args: [self]) { args, value in
      Kernels.unaryDerivative(f, args[0].value, p, q, into: &value)
    }
  }
}

extension Kernels {
  /// out = f′(x) elementwise.
  static func unaryDerivative<F: UnaryFunction>(
    _ f: F.Type, _ x: Tensor, _ p: Double, _ q: Double, into out: inout Tensor
  ) {
    out.prepare(shape: x.shape, dtype: x.dtype)
    switch x.dtype {
    case .float32: unaryDerivative(f, x.pointer(as: Float.self), Float(p), Float(q), &out)
    case .float64: unaryDerivative(f, x.pointer(as: Double.self), p, q, &out)
    }
    withExtendedLifetime(x) {}
  }

  private static func unaryDerivative<F: UnaryFunction, T: TensorScalar>(
    _ f: F.Type, _ x: UnsafeMutablePointer<T>, _ p: T, _ q: T, _ out: inout Tensor
  ) {
    let y = out.pointer(as: T.self)
    for i in 0..<out.count { y[i] = F.derivative(x[i], F.value(x[i], p, q), p, q) }
  }
}
