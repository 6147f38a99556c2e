import Autodiff
import Foundation

/// Adam, as the course writes it, with bias correction:
/// ```
/// m ← β₁m + (1 − β₁)g          m̂ = m / (1 − β₁ᵗ)
/// v ← β₂v + (1 − β₂)g²         v̂ = v / (1 − β₂ᵗ)
/// θ ← θ − α · m̂ / √(v̂ + ε)
/// ```
/// (ε inside the square root, as in the course's notes; PyTorch puts it outside,
/// `√v̂ + ε`, which `epsilonPlacement: .outsideSquareRoot` selects.)
///
/// `weightDecay` λ adds λθ to the gradient (L2 regularization); with
/// `decoupledWeightDecay` it is instead applied directly, θ ← θ − αλθ, which is AdamW.
public class Adam: Optimizer {
  /// Where ε enters the denominator.
  public enum EpsilonPlacement: Sendable { case insideSquareRoot, outsideSquareRoot }

  public var learningRate: Double
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Double
  public var epsilonPlacement: EpsilonPlacement
  public var weightDecay: Double
  public var decoupledWeightDecay: Bool
  /// The number of updates so far (t).
  public private(set) var step = 0
  private let state = ParameterSlots()

  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
    epsilon: Double = 1e-8, epsilonPlacement: EpsilonPlacement = .insideSquareRoot,
    weightDecay: Double = 0, decoupledWeightDecay: Bool = false
  ) {
    require(learningRate > 0, "Adam: learning rate \(learningRate) must be positive")
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.epsilonPlacement = epsilonPlacement
    self.weightDecay = weightDecay
    self.decoupledWeightDecay = decoupledWeightDecay
  }

  public func state(for parameters: [Var]) -> OptimizerState {
    state.state(for: parameters, counters: ["step": step])
  }

  public func restore(_ saved: OptimizerState, for parameters: [Var]) throws {
    try state.restore(saved, for: parameters, count: 2)
    step = saved.counters["step"] ?? 0
  }

  public func update(_ parameters: [Var]) {
    step += 1
    let t = Double(step)
    let c1 = 1 / (1 - Foundation.pow(beta1, t))
    let c2 = 1 / (1 - Foundation.pow(beta2, t))
    let inside = epsilonPlacement == .insideSquareRoot
    let l2 = decoupledWeightDecay ? 0 : weightDecay
    let decoupled = decoupledWeightDecay ? learningRate * weightDecay : 0
    let (lr, b1, b2, eps) = (learningRate, beta1, beta2, epsilon)
    state.update(
      parameters, stateCount: 2, optimizer: "Adam",
      float: { w, g, m, v in
        adamStep(
          w, g, m, v, Float(lr), Float(b1), Float(b2), Float(eps), Float(c1), Float(c2), inside,
          Float(l2), Float(decoupled))
      },
      double: { w, g, m, v in
        adamStep(w, g, m, v, lr, b1, b2, eps, c1, c2, inside, l2, decoupled)
      })
  }
}

/// AdamW: Adam with decoupled weight decay, θ ← θ − αλθ applied outside the adaptive step.
public final class AdamW: Adam {
  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
    epsilon: Double = 1e-8, weightDecay: Double = 0.01
  ) {
    super.init(
      learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
      epsilonPlacement: .outsideSquareRoot, weightDecay: weightDecay, decoupledWeightDecay: true)
  }
}

@inline(__always)
private func adamStep<T: TensorScalar>(
  _ w: UnsafeMutableBufferPointer<T>, _ g: UnsafeBufferPointer<T>,
  _ m: UnsafeMutableBufferPointer<T>, _ v: UnsafeMutableBufferPointer<T>,
  _ lr: T, _ b1: T, _ b2: T, _ eps: T, _ c1: T, _ c2: T, _ inside: Bool, _ l2: T, _ decoupled: T
) {
  for i in 0..<w.count {
    let gi = g[i] + l2 * w[i]
    m[i] = b1 * m[i] + (1 - b1) * gi
    v[i] = b2 * v[i] + (1 - b2) * gi * gi
    let mHat = m[i] * c1
    let vHat = v[i] * c2
    let denominator = inside ? (vHat + eps).squareRoot() : vHat.squareRoot() + eps
    w[i] -= lr * mHat / denominator + decoupled * w[i]
  }
}
