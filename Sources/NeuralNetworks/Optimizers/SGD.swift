import Autodiff

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
/// decay.
///
/// With gradient g (plus λW when `weightDecay` λ is set), momentum β and dampening d:
/// ```
/// V ← β·V + (1 − d)·g
/// W ← W − κ·V              (Nesterov: W ← W − κ·(g + β·V))
/// ```
/// The course's two forms are both instances: `V ← βV + ∇` is `dampening: 0`, and
/// `V ← (1 − r)V + η∇` is `momentum: 1 − r, dampening: 1 − η`. Without momentum the update
/// is plain `W ← W − κ·g`, and with weight decay it is the course's `W ← W − κ∇E − λκW`.
public final class SGD: Optimizer {
  public var learningRate: Double
  public var momentum: Double
  public var dampening: Double
  public var nesterov: Bool
  public var weightDecay: Double
  private let state = ParameterSlots()

  public init(
    learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
    weightDecay: Double = 0
  ) {
    require(learningRate > 0, "SGD: learning rate \(learningRate) must be positive")
    require(momentum >= 0 && momentum < 1, "SGD: momentum \(momentum) must be in [0, 1)")
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
    self.weightDecay = weightDecay
  }

  public func state(for parameters: [Var]) -> OptimizerState { state.state(for: parameters) }

  public func restore(_ saved: OptimizerState, for parameters: [Var]) throws {
    try state.restore(saved, for: parameters, count: 1)
  }

  public func update(_ parameters: [Var]) {
    let (lr, beta, keep, decay, nesterov) = (
      learningRate, momentum, 1 - dampening, weightDecay, self.nesterov
    )
    state.update(
      parameters, stateCount: beta > 0 ? 1 : 0, optimizer: "SGD",
      float: { w, g, v, _ in
        step(w, g, v, Float(lr), Float(beta), Float(keep), Float(decay), nesterov)
      },
      double: { w, g, v, _ in step(w, g, v, lr, beta, keep, decay, nesterov) })
  }
}

@inline(__always)
private func step<T: TensorScalar>(
  _ w: UnsafeMutableBufferPointer<T>, _ g: UnsafeBufferPointer<T>,
  _ v: UnsafeMutableBufferPointer<T>, _ lr: T, _ beta: T, _ keep: T, _ decay: T, _ nesterov: Bool
) {
  if v.count == w.count {
    for i in 0..<w.count {
      let gi = g[i] + decay * w[i]
      v[i] = beta * v[i] + keep * gi
      w[i] -= lr * (nesterov ? gi + beta * v[i] : v[i])
    }
  } else {
    for i in 0..<w.count { w[i] -= lr * (g[i] + decay * w[i]) }
  }
}
