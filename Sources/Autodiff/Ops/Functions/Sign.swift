enum SignFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    x > 0 ? 1 : (x < 0 ? -1 : p)
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    0
  }
}

extension Var {
  /// The elementwise sign: 1 for x > 0, −1 for x < 0, and `zero` (0 by default) at 0.
  ///
  /// Backward: ∂L/∂x = 0 everywhere. The sign is piecewise constant, so no gradient flows
  /// through it. A Hopfield network's threshold update is `field.sign(atZero: 1)`: bipolar
  /// units become 1 when their field is 0.
  public func sign(atZero zero: Double = 0) -> Var {
    elementwise(SignFunction.self, name: "sign", p: zero)
  }
}

extension GradientCheck {
  static let sign = GradientCheck(
    "sign (zero gradient)", inputs: [.init([3, 4], in: 0.1...2, randomSign: true)]
  ) { $0[0].sign() * $0[0] }
}
