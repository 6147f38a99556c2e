import Autodiff

/// Batch normalization over the batch (axis 0), per feature:
/// μ = mean, σ² = mean((h − μ)²), ĥ = (h − μ)/√(σ² + ε), y = γĥ + β.
///
/// In training the batch statistics are used, and running averages are updated with
/// `momentum`; in evaluation the running averages are used. The mode is read each time the
/// graph is evaluated. γ starts at 1 and β at 0, and both are trained.
public final class BatchNorm: Module {
  public let gamma: Var
  public let beta: Var
  /// The running averages, buffers of the module: saved and loaded with its parameters.
  public let runningMeanBuffer: Var
  public let runningVarianceBuffer: Var
  public let momentum: Double
  public let epsilon: Double

  /// The running mean of each feature, used in evaluation.
  public var runningMean: Tensor { runningMeanBuffer.value }
  /// The running variance of each feature, used in evaluation.
  public var runningVariance: Tensor { runningVarianceBuffer.value }

  public init(
    features: Int, momentum: Double = 0.1, epsilon: Double = 1e-5, dtype: DType = .default
  ) {
    gamma = Var(Tensor.ones([features], dtype: dtype), name: "γ")
    beta = Var(Tensor.zeros([features], dtype: dtype), name: "β")
    runningMeanBuffer = Var.constant(Tensor.zeros([features], dtype: dtype), name: "runningMean")
    runningVarianceBuffer = Var.constant(
      Tensor.ones([features], dtype: dtype), name: "runningVariance")
    self.momentum = momentum
    self.epsilon = epsilon
  }

  public override var ownParameters: [Var] { [gamma, beta] }

  public override var ownBuffers: [Var] { [runningMeanBuffer, runningVarianceBuffer] }

  public override func callAsFunction(_ x: Var) -> Var {
    require(
      x.rank == 2 && x.shape[1] == gamma.shape[0],
      "BatchNorm: input \(x.shape) does not have \(gamma.shape[0]) features")
    return Var.composite(name: "batchNorm", args: [x, gamma, beta]) { [self] a in
      let (h, gamma, beta) = (a[0], a[1], a[2])
      if isTraining {
        let mu = h.mean(along: 0)
        let centered = h - mu
        let variance = centered.squared().mean(along: 0)
        if !isGradientRecordingEnabled {
          updateRunningStatistics(mu.value, variance.value, count: h.shape[0])
        }
        return gamma * centered / (variance + epsilon).sqrt() + beta
      }
      let mu = Var.constant(runningMeanBuffer.value)
      let scale = Var.constant(runningVarianceBuffer.value) + epsilon
      return gamma * (h - mu) / scale.sqrt() + beta
    }
  }

  /// The forward runs without recording; only then are the running averages updated, so
  /// rebuilding the expression for the backward does not count a batch twice.
  private func updateRunningStatistics(_ mean: Tensor, _ variance: Tensor, count: Int) {
    let unbiased = count > 1 ? Double(count) / Double(count - 1) : 1
    runningMeanBuffer.updateValue { running in
      for i in 0..<mean.count {
        running[flat: i] = (1 - momentum) * running[flat: i] + momentum * mean[flat: i]
      }
    }
    runningVarianceBuffer.updateValue { running in
      for i in 0..<mean.count {
        running[flat: i] =
          (1 - momentum) * running[flat: i] + momentum * variance[flat: i] * unbiased
      }
    }
  }

  public override var summary: String { "BatchNorm(\(gamma.shape[0]))" }
}

/// Layer normalization over the features of each sample (the last axis), with learned γ, β:
/// y = γ (h − μ)/√(σ² + ε) + β. The same in training and evaluation; composed from ops.
public final class LayerNorm: Module {
  public let gamma: Var
  public let beta: Var
  public let epsilon: Double

  public init(features: Int, epsilon: Double = 1e-5, dtype: DType = .default) {
    gamma = Var(Tensor.ones([features], dtype: dtype), name: "γ")
    beta = Var(Tensor.zeros([features], dtype: dtype), name: "β")
    self.epsilon = epsilon
  }

  public override var ownParameters: [Var] { [gamma, beta] }

  public override func callAsFunction(_ h: Var) -> Var {
    let mu = h.mean(along: -1, keepingDimensions: true)
    let centered = h - mu
    let variance = centered.squared().mean(along: -1, keepingDimensions: true)
    return gamma * centered / (variance + epsilon).sqrt() + beta
  }

  public override var summary: String { "LayerNorm(\(gamma.shape[0]))" }
}
