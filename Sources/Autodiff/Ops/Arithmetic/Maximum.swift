enum MaximumFunction: BinaryFunction {
  @inline(__always) static func value<T: TensorScalar>(_ a: T, _ b: T) -> T { a >= b ? a : b }
  @inline(__always) static func derivatives<T: TensorScalar>(_ a: T, _ b: T, _ y: T) -> (T, T) {
    a >= b ? (1, 0) : (0, 1)
  }
}

extension Var {
  /// The elementwise maximum, with broadcasting; ties go to `a`.
  ///
  /// Backward: the gradient flows to the larger argument, ∂L/∂a = s · [a ≥ b],
  /// ∂L/∂b = s · [a < b].
  public static func maximum(_ a: Var, _ b: Var) -> Var {
    a.elementwise(MaximumFunction.self, b, name: "maximum") { args, _, s in
      let mask = Var.piecewiseConstant("maximum′", args: [args[0], args[1]]) { args, value in
        value.assign(Kernels.comparisonMask(args[0].value, args[1].value) { $0 >= $1 })
      }
      return [
        (s * mask).summed(toShape: args[0].shape),
        (s * (1 - mask)).summed(toShape: args[1].shape),
      ]
    }
  }
}

extension Kernels {
  /// 1 where `predicate(a, b)` holds, else 0, at the shape `a` and `b` broadcast to.
  static func comparisonMask(
    _ a: Tensor, _ b: Tensor, _ predicate: (Double, Double) -> Bool
  ) -> Tensor {
    let shape = broadcastShape(a.shape, b.shape, op: "mask")
    var aa = Tensor(shape: [], buffer: emptyBuffer)
    var bb = Tensor(shape: [], buffer: emptyBuffer)
    broadcast(a, to: shape, into: &aa)
    broadcast(b, to: shape, into: &bb)
    var mask = Tensor.zeros(shape, dtype: a.dtype)
    for i in 0..<mask.count where predicate(aa[flat: i], bb[flat: i]) { mask[flat: i] = 1 }
    return mask
  }
}

extension GradientCheck {
  public static let maximum = GradientCheck(
    "maximum", inputs: [.init([3, 4]), .init([4])]
  ) { Var.maximum($0[0], $0[1]) }
}
