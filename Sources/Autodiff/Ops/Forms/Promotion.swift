/// The dtype rule of the library: an op whose arguments mix `Float` and `Double` computes in
/// `Double`. When the graph is built, each `Float` argument of such an op is converted by a
/// ``Var/converted(to:)`` node, and its gradient flows back converted to `Float`; no kernel
/// ever reads a buffer as another type. A number literal used as a node (the 1 in `1 - y`)
/// takes the dtype of the other arguments instead. A leaf keeps its dtype for life:
/// ``Var/set(_:)`` converts the new value to it.
enum DTypePromotion {
  /// The arguments, with `Float` ones converted to `Double` when the dtypes are mixed, and
  /// literals in the dtype of the others.
  static func promoted(_ args: [Var]) -> [Var] {
    guard let first = args.first, args.contains(where: { $0.dtype != first.dtype }) else {
      return args
    }
    let typed = args.filter { !$0.isWeaklyTyped }
    guard let target = typed.first?.dtype else { return args }
    let dtype = typed.allSatisfy { $0.dtype == target } ? target : .float64
    return args.map { arg in
      guard arg.dtype != dtype else { return arg }
      guard arg.isWeaklyTyped else { return arg.converted(to: dtype) }
      let literal = Var.constant(arg.value.converted(to: dtype))
      literal.isWeaklyTyped = true
      return literal
    }
  }
}

extension Var {
  /// This node's values in another dtype (the same node when it already has it).
  ///
  /// Backward: ∂L/∂x = s converted back to x's dtype.
  public func converted(to dtype: DType) -> Var {
    if dtype == self.dtype { return self }
    return Var(
      op: "convert", args: [self],
      forward: { args, value in Kernels.convert(args[0].value, into: &value, dtype: dtype) },
      vectorJacobianProduct: { args, _, s in [s.converted(to: args[0].dtype)] },
      backward: { args, _, s in args[0].accumulateGradient(s.converted(to: args[0].dtype)) })
  }
}

extension Kernels {
  /// `out` = `x` in `dtype`, written into `out`'s storage when it fits.
  static func convert(_ x: Tensor, into out: inout Tensor, dtype: DType) {
    out.prepare(shape: x.shape, dtype: dtype)
    switch (x.dtype, dtype) {
    case (.float32, .float64): convert(x.pointer(as: Float.self), out.pointer(as: Double.self), x)
    case (.float64, .float32): convert(x.pointer(as: Double.self), out.pointer(as: Float.self), x)
    default:
      out.buffer.pointer.copyMemory(from: x.buffer.pointer, byteCount: x.count * dtype.byteCount)
    }
  }

  private static func convert<A: TensorScalar, B: TensorScalar>(
    _ source: UnsafeMutablePointer<A>, _ destination: UnsafeMutablePointer<B>, _ x: Tensor
  ) {
    for i in 0..<x.count { destination[i] = B(source[i]) }
    withExtendedLifetime(x) {}
  }
}

extension GradientCheck {
  /// A round trip through `Float` rounds to 7 digits, so this check takes larger steps and
  /// wider tolerances than the others, and checks no second derivative.
  static let convert = GradientCheck(
    "convert (through Float)", inputs: [.init([3, 4])], secondOrder: false,
    tolerance: .init(epsilon: 1e-2, absolute: 1e-3, relative: 1e-3)
  ) { x in
    let f = x[0].converted(to: .float32)
    return (f * f).converted(to: .float64) + x[0] * Var.constant(Tensor.ones([4], dtype: .float32))
  }
}
