enum SineFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { T.sin(x) }
  @inline(__always) static func derivative<T: TensorScalar>(_ x: T, _ y: T, _ p: T, _ q: T) -> T {
    T.cos(x)
  }
}

extension Var {
  /// The elementwise sine.
  ///
  /// Backward: ∂L/∂x = s · cos x.
  public func sin() -> Var {
    elementwise(SineFunction.self, name: "sin") { args, _, s in [s * args[0].cos()] }
  }
}

extension GradientCheck {
  public static let sin = GradientCheck("sin", inputs: [.init([3, 4], in: -4...4)]) { $0[0].sin() }
}
