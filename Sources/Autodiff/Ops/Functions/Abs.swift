enum AbsoluteValueFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { abs(x) }
  @inline(__always) static func derivative<T: TensorScalar>(_ x: T, _ y: T, _ p: T, _ q: T) -> T {
    x > 0 ? 1 : (x < 0 ? -1 : 0)
  }
}

extension Var {
  /// The elementwise absolute value |x|.
  ///
  /// Backward: ∂L/∂x = s · sign(x) (0 at x = 0).
  public func abs() -> Var {
    elementwise(AbsoluteValueFunction.self, name: "abs") { args, _, s in [s * args[0].sign()] }
  }
}

extension GradientCheck {
  public static let abs = GradientCheck(
    "abs", inputs: [.init([3, 4], in: 0.2...2, randomSign: true)]
  ) { $0[0].abs() }
}
