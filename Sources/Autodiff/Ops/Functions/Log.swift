import CKernels

enum LogFunction: UnaryFunction {
  /// Vectorized polynomial in `CKernels`; its error bound is tested.
  static var floatKernel: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
    { ad_log_f32($0, $1, $2) }
  }
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T { T.log(x) }
  @inline(__always) static func derivative<A: ElementwiseAlgebra>(_ x: A, _ y: A, _ p: A, _ q: A)
    -> A
  {
    1 / x
  }
}

extension Var {
  /// The elementwise natural logarithm ln x, for x > 0.
  ///
  /// Backward: ∂L/∂x = s / x.
  public func log() -> Var {
    elementwise(LogFunction.self, name: "log")
  }
}

extension GradientCheck {
  static let log = GradientCheck("log", inputs: [.init([3, 4], in: 0.2...3)]) {
    $0[0].log()
  }
}
