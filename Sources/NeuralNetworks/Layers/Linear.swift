import Autodiff

/// A fully connected layer, y = x·W + b, with W of shape [inputSize, outputSize] as in the
/// course (samples are rows) and b broadcast over the batch. Inputs of higher rank are
/// transformed along their last axis.
///
/// Backward (by the engine): ∂W = xᵀ·s, ∂b = Σ over rows of s, ∂x = s·Wᵀ.
public final class Linear: Module {
  /// The weights, [inputSize, outputSize].
  public let weight: Var
  /// The bias, [outputSize], or nil.
  public let bias: Var?

  public var inputSize: Int { weight.shape[0] }
  public var outputSize: Int { weight.shape[1] }

  /// A layer with weights drawn by `initialization` and a zero bias.
  public init(
    inputSize: Int, outputSize: Int, bias: Bool = true,
    initialization: Initialization = .scaledNormal, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    require(
      inputSize > 0 && outputSize > 0,
      "Linear: sizes must be positive, got \(inputSize) → \(outputSize)")
    weight = Var(
      initialization.weights(fanIn: inputSize, fanOut: outputSize, dtype: dtype, using: &generator),
      name: "W")
    self.bias = bias ? Var(Tensor.zeros([outputSize], dtype: dtype), name: "b") : nil
  }

  /// A layer with the given weights and bias (for tied or loaded parameters).
  public init(weight: Var, bias: Var?) {
    require(weight.rank == 2, "Linear: weight must be a matrix, got \(weight.shape)")
    self.weight = weight
    self.bias = bias
  }

  public override var ownParameters: [Var] { [weight] + (bias.map { [$0] } ?? []) }

  /// Applies the layer to rows `[n, inputSize]`, or to the last axis of any input
  /// `[…, inputSize]` (every step of a sequence `[batch, time, inputSize]`, for instance).
  public override func callAsFunction(_ x: Var) -> Var {
    require(
      x.rank >= 2 && x.shape.last == inputSize,
      "Linear(\(inputSize) → \(outputSize)): input of shape \(x.shape) is not [..., \(inputSize)]")
    guard let bias else { return x.matmul(weight) }
    return x.matmul(weight, plus: bias)
  }

  public override var summary: String { "Linear(\(inputSize) → \(outputSize))" }
}
