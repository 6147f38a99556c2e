enum SquareRootFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    x.squareRoot()
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    0.5 / y
  }
}

extension Var {
  /// The elementwise square root √x, for x ≥ 0.
  ///
  /// Backward, from the saved output y = √x: ∂L/∂x = s / (2y).
  public func sqrt() -> Var {
    elementwise(SquareRootFunction.self, name: "sqrt")
  }
}

extension GradientCheck {
  static let sqrt = GradientCheck("sqrt", inputs: [.init([3, 4], in: 0.2...3)]) {
    $0[0].sqrt()
  }
}
