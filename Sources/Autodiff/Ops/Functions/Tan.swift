enum TangentFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { T.tan(x) }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    1 + y * y
  }
}

extension Var {
  /// The elementwise tangent.
  ///
  /// Backward, from the saved output y = tan x: ∂L/∂x = s · (1 + y²).
  public func tan() -> Var {
    elementwise(TangentFunction.self, name: "tan")
  }
}

extension GradientCheck {
  static let tan = GradientCheck("tan", inputs: [.init([3, 4], in: -1.2...1.2)]) {
    $0[0].tan()
  }
}
