enum LeakyReLUFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    x > 0 ? x : p * x
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    p + (1 - p) * x.step()
  }
}

extension Var {
  /// The leaky rectifier: x for x > 0, else α·x.
  ///
  /// Backward: ∂L/∂x = s · (x > 0 ? 1 : α).
  public func leakyRelu(alpha: Double = 0.01) -> Var {
    elementwise(LeakyReLUFunction.self, name: "leakyRelu", p: alpha)
  }
}

extension GradientCheck {
  static let leakyRelu = GradientCheck(
    "leakyRelu", inputs: [.init([3, 4], in: 0.1...2, randomSign: true)]
  ) { $0[0].leakyRelu(alpha: 0.1) }
}
