import Foundation

/// The learning rate as a function of the step (or epoch) number, from a base rate.
public protocol LearningRateSchedule: Sendable {
  func learningRate(base: Double, step: Int) -> Double
}

/// The course's decay: lr = lr₀ / (1 + decay · step).
public struct InverseTimeDecay: LearningRateSchedule, Sendable {
  public var decay: Double
  public init(decay: Double) { self.decay = decay }
  public func learningRate(base: Double, step: Int) -> Double { base / (1 + decay * Double(step)) }
}

/// Multiplies the rate by `factor` every `stepSize` steps.
public struct StepDecay: LearningRateSchedule, Sendable {
  public var stepSize: Int
  public var factor: Double
  public init(stepSize: Int, factor: Double) {
    require(stepSize > 0, "StepDecay: step size \(stepSize) must be positive")
    self.stepSize = stepSize
    self.factor = factor
  }
  public func learningRate(base: Double, step: Int) -> Double {
    base * Foundation.pow(factor, Double(step / stepSize))
  }
}

/// lr = lr₀ · rateᵗ.
public struct ExponentialDecay: LearningRateSchedule, Sendable {
  public var rate: Double
  public init(rate: Double) { self.rate = rate }
  public func learningRate(base: Double, step: Int) -> Double {
    base * Foundation.pow(rate, Double(step))
  }
}

/// Cosine annealing from lr₀ down to `minimum` over `totalSteps`, then held.
public struct CosineDecay: LearningRateSchedule, Sendable {
  public var totalSteps: Int
  public var minimum: Double
  public init(totalSteps: Int, minimum: Double = 0) {
    require(totalSteps > 0, "CosineDecay: total steps \(totalSteps) must be positive")
    self.totalSteps = totalSteps
    self.minimum = minimum
  }
  public func learningRate(base: Double, step: Int) -> Double {
    let t = Double(min(step, totalSteps)) / Double(totalSteps)
    return minimum + (base - minimum) * 0.5 * (1 + Foundation.cos(.pi * t))
  }
}
