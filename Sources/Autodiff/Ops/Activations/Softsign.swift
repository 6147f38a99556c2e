enum SoftsignFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    x / (1 + Swift.abs(x))
  }
  /// 1 / (1 + |x|)², with |x| written as x (2 step(x) − 1).
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    let d = 1 / (1 + x * (2 * x.step() - 1))
    return d * d
  }
}

extension Var {
  /// softsign(x) = x / (1 + |x|), a sigmoid-shaped function with polynomial tails.
  ///
  /// Backward: ∂L/∂x = s / (1 + |x|)².
  public func softsign() -> Var {
    elementwise(SoftsignFunction.self, name: "softsign")
  }
}

extension GradientCheck {
  static let softsign = GradientCheck(
    "softsign", inputs: [.init([3, 4], in: 0.1...3, randomSign: true)]
  ) { $0[0].softsign() }
}
