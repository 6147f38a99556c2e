import CKernels

enum TanhFunction: UnaryFunction {
  /// Vectorized polynomial in `CKernels`; its error bound is tested.
  static var floatKernel: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
    { ad_tanh_f32($0, $1, $2) }
  }
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { T.tanh(x) }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    1 - y * y
  }
}

extension Var {
  /// The elementwise hyperbolic tangent.
  ///
  /// Backward, from the saved output y = tanh x: ∂L/∂x = s · (1 − y²).
  public func tanh() -> Var {
    elementwise(TanhFunction.self, name: "tanh")
  }
}

extension GradientCheck {
  static let tanh = GradientCheck("tanh", inputs: [.init([3, 4], in: -3...3)]) {
    $0[0].tanh()
  }
}
