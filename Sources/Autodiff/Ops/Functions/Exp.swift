import CKernels

enum ExpFunction: UnaryFunction {
  /// Vectorized polynomial in `CKernels`; its error bound is tested.
  static var floatKernel: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
    { ad_exp_f32($0, $1, $2) }
  }
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { T.exp(x) }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    y
  }
}

extension Var {
  /// The elementwise exponential eˣ.
  ///
  /// Backward, from the saved output y = eˣ: ∂L/∂x = s · y.
  public func exp() -> Var {
    elementwise(ExpFunction.self, name: "exp")
  }
}

extension GradientCheck {
  static let exp = GradientCheck("exp", inputs: [.init([3, 4])]) { $0[0].exp() }
}
