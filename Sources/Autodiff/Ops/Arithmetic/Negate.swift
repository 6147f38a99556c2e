enum NegateFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { -x }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    -1
  }
}

extension Var {
  /// The elementwise negation −x.
  ///
  /// Backward: ∂L/∂x = −s.
  public static prefix func - (x: Var) -> Var {
    x.elementwise(NegateFunction.self, name: "negate")
  }
}

extension GradientCheck {
  static let negate = GradientCheck("negate", inputs: [.init([3, 2])]) { -$0[0] }
}
