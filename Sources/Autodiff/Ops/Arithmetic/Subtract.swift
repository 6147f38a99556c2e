enum SubtractFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { a - b }
  @inline(__always) static func derivatives<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A)
    -> (A, A)
  {
    (1, -1)
  }
}

extension Var {
  /// The elementwise difference, with broadcasting.
  ///
  /// Backward: ∂L/∂a = Σ s, ∂L/∂b = −Σ s (sums over broadcast axes).
  public static func - (a: Var, b: Var) -> Var {
    a.elementwise(SubtractFunction.self, b, name: "subtract", infix: "-")
  }

  public static func - (a: Var, b: Double) -> Var { a - a.literal(b) }
  public static func - (a: Double, b: Var) -> Var { b.literal(a) - b }
}

extension GradientCheck {
  static let subtract = GradientCheck(
    "subtract", inputs: [.init([2, 3, 4]), .init([3, 1])]
  ) { $0[0] - $0[1] }
}
