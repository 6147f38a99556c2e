enum MinimumFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { a <= b ? a : b }
  @inline(__always) static func derivatives<T: TensorScalar>(_ a: T, _ b: T, _ y: T) -> (T, T) {
    a <= b ? (1, 0) : (0, 1)
  }
}

extension Var {
  /// The elementwise minimum, with broadcasting; ties go to `a`.
  ///
  /// Backward: ∂L/∂a = s · [a ≤ b], ∂L/∂b = s · [a > b].
  public static func minimum(_ a: Var, _ b: Var) -> Var {
    a.elementwise(MinimumFunction.self, b, name: "minimum") { args, _, s in
      let mask = Var.piecewiseConstant("minimum′", args: [args[0], args[1]]) { args, value in
        value.assign(Kernels.comparisonMask(args[0].value, args[1].value) { $0 <= $1 })
      }
      return [
        (s * mask).summed(toShape: args[0].shape),
        (s * (1 - mask)).summed(toShape: args[1].shape),
      ]
    }
  }
}

extension GradientCheck {
  public static let minimum = GradientCheck(
    "minimum", inputs: [.init([3, 4]), .init([3, 4])]
  ) { Var.minimum($0[0], $0[1]) }
}
