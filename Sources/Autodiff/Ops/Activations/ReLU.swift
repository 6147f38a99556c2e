enum ReLUFunction: UnaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ x: T, _ p: T, _ q: T) -> T {
    x > 0 ? x : 0
  }
  @inline(__always) static func derivative<T: TensorScalar>(_ x: T, _ y: T, _ p: T, _ q: T) -> T {
    x > 0 ? 1 : 0
  }
}

extension Var {
  /// The rectified linear unit max(x, 0).
  ///
  /// Backward: ∂L/∂x = s · [x > 0] (0 at x = 0).
  public func relu() -> Var {
    elementwise(ReLUFunction.self, name: "relu") { args, _, s in
      [s * Var.constant(Kernels.mask(args[0].value) { $0 > 0 ? 1 : 0 })]
    }
  }
}

extension Kernels {
  /// `f` applied to every element (for masks and other constants in backward rules).
  static func mask(_ x: Tensor, _ f: (Double) -> Double) -> Tensor {
    var out = x
    out.makeUnique()
    for i in 0..<out.count { out[flat: i] = f(x[flat: i]) }
    return out
  }
}

extension GradientCheck {
  public static let relu = GradientCheck(
    "relu", inputs: [.init([3, 4], in: 0.1...2, randomSign: true)]
  ) { $0[0].relu() }
}
