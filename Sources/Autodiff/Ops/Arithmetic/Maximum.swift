enum MaximumFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { a >= b ? a : b }
  @inline(__always) static func derivatives<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A)
    -> (A, A)
  {
    let first = (a - b).stepIncludingZero()
    return (first, 1 - first)
  }
}

extension Var {
  /// The elementwise maximum, with broadcasting; ties go to `a`.
  ///
  /// Backward: the gradient flows to the larger argument, ∂L/∂a = s · [a ≥ b],
  /// ∂L/∂b = s · [a < b].
  public static func maximum(_ a: Var, _ b: Var) -> Var {
    a.elementwise(MaximumFunction.self, b, name: "maximum")
  }
}

extension GradientCheck {
  static let maximum = GradientCheck(
    "maximum", inputs: [.init([3, 4]), .init([4])]
  ) { Var.maximum($0[0], $0[1]) }
}
