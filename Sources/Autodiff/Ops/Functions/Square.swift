enum SquareFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { x * x }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    2 * x
  }
}

extension Var {
  /// The elementwise square x².
  ///
  /// Backward: ∂L/∂x = 2 · s · x.
  public func squared() -> Var {
    elementwise(SquareFunction.self, name: "square")
  }
}

extension GradientCheck {
  static let square = GradientCheck("square", inputs: [.init([3, 4])]) { $0[0].squared() }
}
