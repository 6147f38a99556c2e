enum CosineFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { T.cos(x) }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    -x.sin()
  }
}

extension Var {
  /// The elementwise cosine.
  ///
  /// Backward: ∂L/∂x = −s · sin x.
  public func cos() -> Var {
    elementwise(CosineFunction.self, name: "cos")
  }
}

extension GradientCheck {
  static let cos = GradientCheck("cos", inputs: [.init([3, 4], in: -4...4)]) { $0[0].cos() }
}
