enum SoftplusFunction: UnaryFunction {
  /// ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): no overflow for large x, no loss for small.
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    (x > 0 ? x : 0) + T.log1p(T.exp(-abs(x)))
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    x.sigmoid()
  }
}

extension Var {
  /// The softplus ln(1 + eˣ), a smooth ReLU, computed stably for any x.
  ///
  /// Backward: ∂L/∂x = s · σ(x).
  public func softplus() -> Var {
    elementwise(SoftplusFunction.self, name: "softplus")
  }
}

extension GradientCheck {
  static let softplus = GradientCheck("softplus", inputs: [.init([3, 4], in: -5...5)]) {
    $0[0].softplus()
  }
}
