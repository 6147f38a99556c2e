enum CosineFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { T.cos(x) }
  @inline(__always) static func derivative<T: TensorScalar>(_ x: T, _ y: T, _ p: T, _ q: T) -> T {
    -T.sin(x)
  }
}

extension Var {
  /// The elementwise cosine.
  ///
  /// Backward: ∂L/∂x = −s · sin x.
  public func cos() -> Var {
    elementwise(CosineFunction.self, name: "cos") { args, _, s in [-s * args[0].sin()] }
  }
}

extension GradientCheck {
  public static let cos = GradientCheck("cos", inputs: [.init([3, 4], in: -4...4)]) { $0[0].cos() }
}
