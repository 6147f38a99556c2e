enum DivideFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { a / b }
  @inline(__always) static func derivatives<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A)
    -> (A, A)
  {
    (1 / b, -y / b)
  }
}

extension Var {
  /// The elementwise quotient, with broadcasting.
  ///
  /// Backward, from the saved output y = a / b: ∂L/∂a = Σ s / b, ∂L/∂b = −Σ s · y / b.
  public static func / (a: Var, b: Var) -> Var {
    a.elementwise(DivideFunction.self, b, name: "divide", infix: "/")
  }

  public static func / (a: Var, b: Double) -> Var { a * (1 / b) }
  public static func / (a: Double, b: Var) -> Var { b.literal(a) / b }
}

extension GradientCheck {
  static let divide = GradientCheck(
    "divide", inputs: [.init([3, 4]), .init([4], in: 0.5...2, randomSign: true)]
  ) { $0[0] / $0[1] }
}
