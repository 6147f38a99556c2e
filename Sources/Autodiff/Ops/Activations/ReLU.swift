enum ReLUFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    x > 0 ? x : 0
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    x.step()
  }
}

extension Var {
  /// The rectified linear unit max(x, 0).
  ///
  /// Backward: ∂L/∂x = s · [x > 0] (0 at x = 0).
  public func relu() -> Var {
    elementwise(ReLUFunction.self, name: "relu")
  }
}

extension GradientCheck {
  static let relu = GradientCheck(
    "relu", inputs: [.init([3, 4], in: 0.1...2, randomSign: true)]
  ) { $0[0].relu() }
}
