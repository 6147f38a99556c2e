import CKernels

enum SigmoidFunction: UnaryFunction {
  /// Vectorized polynomial in `CKernels`; its error bound is tested.
  static var floatKernel: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
    { ad_sigmoid_f32($0, $1, $2) }
  }
  /// Stable for large |x|: e⁻ˣ is only formed for x ≥ 0, and eˣ for x < 0.
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    if x >= 0 { return 1 / (1 + T.exp(-x)) }
    let e = T.exp(x)
    return e / (1 + e)
  }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    y * (1 - y)
  }
}

extension Var {
  /// The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ), computed without overflow for any x.
  ///
  /// Backward, from the saved output y = σ(x): ∂L/∂x = s · y · (1 − y).
  public func sigmoid() -> Var {
    elementwise(SigmoidFunction.self, name: "sigmoid")
  }
}

extension GradientCheck {
  static let sigmoid = GradientCheck("sigmoid", inputs: [.init([3, 4], in: -4...4)]) {
    $0[0].sigmoid()
  }
}
