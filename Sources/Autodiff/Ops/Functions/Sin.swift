enum SineFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { T.sin(x) }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    x.cos()
  }
}

extension Var {
  /// The elementwise sine.
  ///
  /// Backward: ∂L/∂x = s · cos x.
  public func sin() -> Var {
    elementwise(SineFunction.self, name: "sin")
  }
}

extension GradientCheck {
  static let sin = GradientCheck("sin", inputs: [.init([3, 4], in: -4...4)]) { $0[0].sin() }
}
