/// The negative log-likelihood of class labels under log-probabilities (e.g. from
/// ``Var/logSoftmax(along:)``): −(1/n) Σᵢ logPᵢ[labelᵢ], the mean over the n rows whose
/// label is not −1 (padding). Composed from one-hot, multiply and
/// sum, so `negativeLogLikelihood(logSoftmax(x))` equals `crossEntropy(logits:labels:labelSmoothing:reduction:)`.
///
/// Backward: ∂L/∂logP = −onehot(labels) / n.
public func negativeLogLikelihood(
  logProbabilities: Var, labels: Var, reduction: LossReduction = .mean
) -> Var {
  require(
    logProbabilities.rank == 2 && labels.shape == [logProbabilities.shape[0]],
    "negativeLogLikelihood: log-probabilities \(logProbabilities.shape) and labels \(labels.shape) differ"
  )
  let targets = labels.oneHot(classes: logProbabilities.shape[1], dtype: logProbabilities.dtype)
  let picked = -(logProbabilities * targets).sum()
  return reduction == .mean ? picked / targets.targetRowCount() : picked
}

extension GradientCheck {
  static let negativeLogLikelihood = GradientCheck(
    "negativeLogLikelihood", inputs: [.init([4, 3])]
  ) {
    Autodiff.negativeLogLikelihood(
      logProbabilities: $0[0].logSoftmax(), labels: Var.labels([0, 2, 2, 1], dtype: .float64))
  }
}

@available(*, deprecated, renamed: "negativeLogLikelihood(logProbabilities:labels:reduction:)")
public func nllLoss(logProbabilities: Var, labels: Var, reduction: LossReduction = .mean) -> Var {
  negativeLogLikelihood(logProbabilities: logProbabilities, labels: labels, reduction: reduction)
}
