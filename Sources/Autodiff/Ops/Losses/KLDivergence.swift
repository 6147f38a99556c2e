/// The Kullback–Leibler divergence of the diagonal Gaussian N(μ, σ²) from N(0, I), given
/// μ and ln σ², summed over latent units and averaged over the batch (rows) or summed:
/// KL = ½ Σ (σ² + μ² − ln σ² − 1). This is the VAE's regularizer. Composed from exp,
/// square and arithmetic.
///
/// Backward: ∂KL/∂μ = μ, ∂KL/∂(ln σ²) = ½(σ² − 1) (÷ n for the mean).
public func gaussianKLDivergence(mean mu: Var, logVariance: Var, reduction: LossReduction = .mean)
  -> Var
{
  require(
    mu.shape == logVariance.shape,
    "gaussianKLDivergence: mean \(mu.shape) and log-variance \(logVariance.shape) differ")
  let total = ((logVariance.exp() + mu.squared() - logVariance - 1) * 0.5).sum()
  guard reduction == .mean, mu.rank >= 2 else { return total }
  return total / mu.count(along: 0)
}

extension GradientCheck {
  static let gaussianKLDivergence = GradientCheck(
    "gaussianKLDivergence", inputs: [.init([3, 2]), .init([3, 2], in: -1...1)]
  ) { Autodiff.gaussianKLDivergence(mean: $0[0], logVariance: $0[1]) }
}
