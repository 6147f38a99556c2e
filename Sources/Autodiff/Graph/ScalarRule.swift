/// An elementwise op's value and partial derivatives on single numbers, for the compiled
/// replay of graphs of rank-0 nodes (see ``CompiledReplay``).
///
/// It is made from the same ``UnaryFunction`` or ``BinaryFunction`` as the op's kernels and
/// its differentiable rule, specialized for `Float` and `Double`, so a replayed node
/// computes exactly what the op computes, one number at a time, without a tensor or a
/// closure over `Var`s per step.
struct ScalarRule {
  /// y = f(a, b); a unary function ignores b.
  let value64: (Double, Double) -> Double
  /// (∂y/∂a, ∂y/∂b) at (a, b) given y.
  let partials64: (Double, Double, Double) -> (Double, Double)
  let value32: (Float, Float) -> Float
  let partials32: (Float, Float, Float) -> (Float, Float)
  /// The common functions, run inline by the replay without calling a closure.
  let code: Code

  enum Code: UInt8 {
    case other, add, subtract, multiply, negate, relu
  }

  /// The rule of y = f(x) with the op's parameters p and q.
  static func unary<F: UnaryFunction>(_: F.Type, p: Double, q: Double) -> ScalarRule {
    let (p32, q32) = (Float(p), Float(q))
    let code: Code =
      F.self == NegateFunction.self ? .negate : F.self == ReLUFunction.self ? .relu : .other
    return ScalarRule(
      value64: { x, _ in F.value(x, p, q) },
      partials64: { x, _, y in (F.derivative(x, y, p, q), 0) },
      value32: { x, _ in
        // As the tensor kernel computes it: with the vectorized approximation, if any.
        guard let kernel = F.floatKernel, ComputeSettings.kernelLevel > .portable else {
          return F.value(x, p32, q32)
        }
        var (input, output) = (x, Float(0))
        kernel(&input, &output, 1)
        return output
      },
      partials32: { x, _, y in (F.derivative(x, y, p32, q32), 0) },
      code: code)
  }

  /// The rule of y = f(a, b).
  static func binary<F: BinaryFunction>(_: F.Type) -> ScalarRule {
    let code: Code =
      F.self == AddFunction.self
      ? .add
      : F.self == SubtractFunction.self
        ? .subtract : F.self == MultiplyFunction.self ? .multiply : .other
    return ScalarRule(
      value64: { a, b in F.value(a, b) },
      partials64: { a, b, y in F.derivatives(a, b, y) },
      value32: { a, b in F.value(a, b) },
      partials32: { a, b, y in F.derivatives(a, b, y) },
      code: code)
  }
}
