enum AbsoluteValueFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { abs(x) }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    x.step() - (-x).step()
  }
}

extension Var {
  /// The elementwise absolute value |x|.
  ///
  /// Backward: ∂L/∂x = s · sign(x) (0 at x = 0).
  public func abs() -> Var {
    elementwise(AbsoluteValueFunction.self, name: "abs")
  }
}

extension GradientCheck {
  static let abs = GradientCheck(
    "abs", inputs: [.init([3, 4], in: 0.2...2, randomSign: true)]
  ) { $0[0].abs() }
}
