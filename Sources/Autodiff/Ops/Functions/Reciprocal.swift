enum ReciprocalFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { 1 / x }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    -(y * y)
  }
}

extension Var {
  /// The elementwise reciprocal 1 / x.
  ///
  /// Backward, from the saved output y = 1/x: ∂L/∂x = −s · y².
  public func reciprocal() -> Var {
    elementwise(ReciprocalFunction.self, name: "reciprocal")
  }
}

extension GradientCheck {
  static let reciprocal = GradientCheck(
    "reciprocal", inputs: [.init([3, 4], in: 0.5...2, randomSign: true)]
  ) { $0[0].reciprocal() }
}
