/// The negative log-likelihood of class labels under log-probabilities (e.g. from
/// ``Var/logSoftmax(along:)``): −(1/n) Σᵢ logPᵢ[labelᵢ], the mean over the n rows whose
/// label is not −1 (padding). Composed from one-hot, multiply and
/// sum, so `nllLoss(logSoftmax(x))` equals `crossEntropy(logits:labels:labelSmoothing:reduction:)`.
///
/// Backward: ∂L/∂logP = −onehot(labels) / n.
public func nllLoss(logProbabilities: Var, labels: Var, reduction: Reduction = .mean) -> Var {
  require(
    logProbabilities.rank == 2 && labels.shape == [logProbabilities.shape[0]],
    "nllLoss: log-probabilities \(logProbabilities.shape) and labels \(labels.shape) differ")
  let targets = labels.oneHot(classes: logProbabilities.shape[1], dtype: logProbabilities.dtype)
  let picked = -(logProbabilities * targets).sum()
  return reduction == .mean ? picked / targets.targetRowCount() : picked
}

extension GradientCheck {
  public static let nllLoss = GradientCheck("nllLoss", inputs: [.init([4, 3])]) {
    Autodiff.nllLoss(
      logProbabilities: $0[0].logSoftmax(), labels: Var.labels([0, 2, 2, 1], dtype: .float64))
  }
}
