import Autodiff

/// RMSProp: divides the step by a running root-mean-square of recent gradients.
/// ```
/// v ← ρv + (1 − ρ)g²
/// θ ← θ − α · g / (√v + ε)
/// ```
public final class RMSProp: Optimizer {
  public var learningRate: Double
  public var decay: Double
  public var epsilon: Double
  private let state = ParameterSlots()

  public init(learningRate: Double = 1e-3, decay: Double = 0.9, epsilon: Double = 1e-8) {
    require(learningRate > 0, "RMSProp: learning rate \(learningRate) must be positive")
    self.learningRate = learningRate
    self.decay = decay
    self.epsilon = epsilon
  }

  public func state(for parameters: [Var]) -> OptimizerState { state.state(for: parameters) }

  public func restore(_ saved: OptimizerState, for parameters: [Var]) throws {
    try state.restore(saved, for: parameters, count: 1)
  }

  public func update(_ parameters: [Var]) {
    let (lr, rho, eps) = (learningRate, decay, epsilon)
    state.update(
      parameters, stateCount: 1, optimizer: "RMSProp",
      float: { w, g, v, _ in rmsStep(w, g, v, Float(lr), Float(rho), Float(eps)) },
      double: { w, g, v, _ in rmsStep(w, g, v, lr, rho, eps) })
  }
}

@inline(__always)
private func rmsStep<T: TensorScalar>(
  _ w: UnsafeMutableBufferPointer<T>, _ g: UnsafeBufferPointer<T>,
  _ v: UnsafeMutableBufferPointer<T>, _ lr: T, _ rho: T, _ eps: T
) {
  for i in 0..<w.count {
    v[i] = rho * v[i] + (1 - rho) * g[i] * g[i]
    w[i] -= lr * g[i] / (v[i].squareRoot() + eps)
  }
}
