enum MinimumFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { a <= b ? a : b }
  @inline(__always) static func derivatives<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A)
    -> (A, A)
  {
    let first = (b - a).stepIncludingZero()
    return (first, 1 - first)
  }
}

extension Var {
  /// The elementwise minimum, with broadcasting; ties go to `a`.
  ///
  /// Backward: ∂L/∂a = s · [a ≤ b], ∂L/∂b = s · [a > b].
  public static func minimum(_ a: Var, _ b: Var) -> Var {
    a.elementwise(MinimumFunction.self, b, name: "minimum")
  }
}

extension GradientCheck {
  static let minimum = GradientCheck(
    "minimum", inputs: [.init([3, 4]), .init([3, 4])]
  ) { Var.minimum($0[0], $0[1]) }
}
