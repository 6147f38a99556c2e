enum ELUFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    x > 0 ? x : p * (T.exp(x) - 1)
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    let positive = x.step()
    return positive + (1 - positive) * (y + p)
  }
}

extension Var {
  /// The exponential linear unit: x for x > 0, else α(eˣ − 1).
  ///
  /// Backward, from the saved output y: ∂L/∂x = s for x > 0, else s · (y + α).
  public func elu(alpha: Double = 1) -> Var {
    elementwise(ELUFunction.self, name: "elu", p: alpha)
  }
}

extension GradientCheck {
  static let elu = GradientCheck(
    "elu", inputs: [.init([3, 4], in: 0.1...2, randomSign: true)]
  ) { $0[0].elu(alpha: 0.7) }
}
