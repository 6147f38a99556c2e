import Autodiff

/// The perceptron: y = 1 if x·w + b > 0 else 0, one linear threshold unit per output.
///
/// It is trained by gradient descent on the perceptron criterion
/// L = mean(max(0, −t·(x·w + b))) with targets t ∈ {−1, 1}: its gradient is zero for
/// correctly classified samples and −t·x for misclassified ones, which is exactly
/// Rosenblatt's learning rule. ``callAsFunction(_:)`` returns the score x·w + b; use
/// ``perceptronLoss(scores:targets:)`` to train and ``classify(_:)`` to threshold.
public final class Perceptron: Module {
  public let linear: Linear

  public init(
    inputSize: Int, outputSize: Int = 1, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    linear = Linear(
      inputSize: inputSize, outputSize: outputSize,
      initialization: .normal(standardDeviation: 0.01), dtype: dtype, using: &generator)
  }

  public override var children: [Module] { [linear] }

  public override func callAsFunction(_ x: Var) -> Var { linear(x) }

  /// 1 where the score is positive, else 0.
  public func classify(_ x: Tensor) -> Tensor {
    let scores = noGrad { linear(Var.constant(x)).value }
    var out = scores
    for i in 0..<out.count { out[flat: i] = scores[flat: i] > 0 ? 1 : 0 }
    return out
  }

  public override var summary: String { "Perceptron(\(linear.inputSize) → \(linear.outputSize))" }
}

/// The perceptron criterion mean(max(0, −t · score)) for targets t in {0, 1} (mapped to
/// −1 and 1).
public func perceptronLoss(scores: Var, targets: Var) -> Var {
  (-(targets * 2 - 1) * scores).relu().mean()
}

/// Logistic regression: one linear layer whose score is passed through σ, trained with
/// binary cross-entropy (from logits, stably). ``callAsFunction(_:)`` returns the logit.
public final class LogisticRegression: Module {
  public let linear: Linear

  public init(
    inputSize: Int, dtype: DType = .default, using generator: inout some RandomNumberGenerator
  ) {
    linear = Linear(
      inputSize: inputSize, outputSize: 1, initialization: .normal(standardDeviation: 0.01),
      dtype: dtype, using: &generator)
  }

  public override var children: [Module] { [linear] }

  public override func callAsFunction(_ x: Var) -> Var { linear(x) }

  public override var summary: String { "LogisticRegression(\(linear.inputSize) → 1)" }
}
