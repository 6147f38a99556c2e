enum MultiplyFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { a * b }
  @inline(__always) static func derivatives<A: ElementwiseAlgebra>(_ a: A, _ b: A, _ y: A)
    -> (A, A)
  {
    (b, a)
  }
}

extension Var {
  /// The elementwise (Hadamard) product, with broadcasting.
  ///
  /// Backward: ∂L/∂a = Σ s ⊙ b, ∂L/∂b = Σ s ⊙ a (sums over broadcast axes).
  public static func * (a: Var, b: Var) -> Var {
    a.elementwise(MultiplyFunction.self, b, name: "multiply", infix: "*")
  }

  public static func * (a: Var, b: Double) -> Var { a * a.literal(b) }
  public static func * (a: Double, b: Var) -> Var { b.literal(a) * b }
}

extension GradientCheck {
  static let multiply = GradientCheck(
    "multiply", inputs: [.init([3, 4]), .init([3, 4])]
  ) { $0[0] * $0[1] }
  static let multiplyBroadcast = GradientCheck(
    "multiply (broadcast)", inputs: [.init([3, 4]), .init([])]
  ) { $0[0] * $0[1] }
  static let multiplySelf = GradientCheck("multiply (x · x)", inputs: [.init([5])]) {
    $0[0] * $0[0]
  }
}
