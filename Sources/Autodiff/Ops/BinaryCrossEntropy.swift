/// The binary cross-entropy −(t ln y + (1 − t) ln(1 − y)) of probabilities y against targets
/// t in [0, 1], averaged (or summed) over all elements.
///
/// y is clamped to [ε, 1 − ε] with ε = 1e-7 so that a saturated prediction gives a large
/// finite loss rather than infinity. Composed from clamp, log and arithmetic.
///
/// Backward: ∂L/∂y = (y − t) / (y(1 − y)) per element (÷ n for the mean), 0 where clamped.
public func binaryCrossEntropy(
  predicted: Var, expected: Var, epsilon: Double = 1e-7, reduction: Reduction = .mean
) -> Var {
  precondition(
    predicted.shape == expected.shape,
    "binaryCrossEntropy: predicted \(predicted.shape) and expected \(expected.shape) differ")
  let y = predicted.clamped(to: epsilon...(1 - epsilon))
  let terms = -(expected * y.log() + (1 - expected) * (1 - y).log())
  return reduction == .mean ? terms.mean() : terms.sum()
}

/// The binary cross-entropy of σ(logits) against targets, computed stably from the logits as
/// softplus(x) − t·x, which never forms σ(x) and so never takes the log of 0.
///
/// Backward: ∂L/∂x = σ(x) − t per element (÷ n for the mean); ∂L/∂t = −x.
public func binaryCrossEntropy(logits: Var, expected: Var, reduction: Reduction = .mean) -> Var {
  precondition(
    logits.shape == expected.shape,
    "binaryCrossEntropy: logits \(logits.shape) and expected \(expected.shape) differ")
  let terms = logits.softplus() - expected * logits
  return reduction == .mean ? terms.mean() : terms.sum()
}

extension GradientCheck {
  public static let binaryCrossEntropy = GradientCheck(
    "binaryCrossEntropy", inputs: [.init([3, 4], in: 0.05...0.95), .init([3, 4], in: 0...1)]
  ) { Autodiff.binaryCrossEntropy(predicted: $0[0], expected: $0[1]) }
  public static let binaryCrossEntropyLogits = GradientCheck(
    "binaryCrossEntropy (logits)", inputs: [.init([3, 4], in: -5...5), .init([3, 4], in: 0...1)]
  ) { Autodiff.binaryCrossEntropy(logits: $0[0], expected: $0[1]) }
}
