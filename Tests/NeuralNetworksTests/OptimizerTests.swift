import Autodiff
import Foundation
import NeuralNetworks
import Testing

/// Each optimizer's step against the same step computed by hand.
@Suite("Optimizers")
struct OptimizerTests {
  /// A Double parameter [1, −2] with gradient [0.5, 0.25], so that each step can be
  /// compared with the hand computation to 1e-12.
  func parameter() -> Var {
    let p = Var(Tensor([1, -2], dtype: .float64))
    p.grad = Tensor([0.5, 0.25], dtype: .float64)
    return p
  }

  func expect(
    _ p: Var, _ expected: [Double], _ tolerance: Double = 1e-12,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    for (a, b) in zip(p.value.scalars, expected) {
      #expect(
        abs(a - b) <= tolerance, "\(p.value.scalars) vs \(expected)", sourceLocation: sourceLocation
      )
    }
  }

  @Test func plainSGD() {
    let p = parameter()
    SGD(learningRate: 0.1).update([p])
    expect(p, [1 - 0.05, -2 - 0.025])
  }

  @Test func sgdWithWeightDecayIsTheCoursesUpdate() {
    let p = parameter()
    SGD(learningRate: 0.1, weightDecay: 0.01).update([p])
    // θ ← θ − κ∇E − λκθ
    expect(p, [1 - 0.1 * 0.5 - 0.01 * 0.1 * 1, -2 - 0.1 * 0.25 - 0.01 * 0.1 * -2])
  }

  @Test func momentumBothCourseForms() {
    // V ← βV + ∇, W ← W − κV: two steps with the same gradient.
    let p = parameter()
    let sgd = SGD(learningRate: 0.1, momentum: 0.9)
    sgd.update([p])
    sgd.update([p])
    let second = [0.9 * 0.5 + 0.5, 0.9 * 0.25 + 0.25]
    expect(p, [1 - 0.1 * 0.5 - 0.1 * second[0], -2 - 0.1 * 0.25 - 0.1 * second[1]])
    // V ← (1 − r)V + η∇ with r = 0.2, η = 0.3: momentum 0.8, dampening 0.7.
    let q = parameter()
    let course = SGD(learningRate: 0.1, momentum: 0.8, dampening: 0.7)
    course.update([q])
    course.update([q])
    let v1 = [0.3 * 0.5, 0.3 * 0.25]
    let v2 = [0.8 * v1[0] + 0.3 * 0.5, 0.8 * v1[1] + 0.3 * 0.25]
    expect(q, [1 - 0.1 * v1[0] - 0.1 * v2[0], -2 - 0.1 * v1[1] - 0.1 * v2[1]])
  }

  @Test func nesterov() {
    let p = parameter()
    let sgd = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
    sgd.update([p])
    // V = g; W ← W − κ(g + βV)
    expect(p, [1 - 0.1 * (0.5 + 0.9 * 0.5), -2 - 0.1 * (0.25 + 0.9 * 0.25)])
    // On the second step V is no longer g: V = βg₁ + g₂, W ← W − κ(g₂ + βV).
    p.grad = Tensor([-1, 0.5], dtype: .float64)
    sgd.update([p])
    var w = [1.0, -2.0]
    var v = [0.0, 0.0]
    for g in [[0.5, 0.25], [-1, 0.5]] {
      for i in 0..<2 {
        v[i] = 0.9 * v[i] + g[i]
        w[i] -= 0.1 * (g[i] + 0.9 * v[i])
      }
    }
    expect(p, w)
  }

  @Test func adamAsTheCourseWritesIt() {
    let p = parameter()
    let adam = Adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    adam.update([p])
    p.grad = Tensor([-1, 0.5], dtype: .float64)
    adam.update([p])
    var w = [1.0, -2.0]
    var m = [0.0, 0.0]
    var v = [0.0, 0.0]
    for (t, g) in [[0.5, 0.25], [-1, 0.5]].enumerated() {
      for i in 0..<2 {
        m[i] = 0.9 * m[i] + 0.1 * g[i]
        v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
        let mHat = m[i] / (1 - pow(0.9, Double(t + 1)))
        let vHat = v[i] / (1 - pow(0.999, Double(t + 1)))
        w[i] -= 0.01 * mHat / (vHat + 1e-8).squareRoot()
      }
    }
    expect(p, w)
  }

  @Test func adamL2WeightDecayIsAddedToTheGradient() {
    // With λ = 0.5 the gradient becomes g + λθ = [0.5 + 0.5, 0.25 − 1] = [1, −0.75]; on the
    // first step m̂ = g′ and v̂ = g′², so each weight moves by lr · g′ / √(g′² + ε).
    let p = parameter()
    Adam(learningRate: 0.01, weightDecay: 0.5).update([p])
    let expected = [(1.0, 1.0), (-2.0, -0.75)].map { w, g in
      w - 0.01 * g / (g * g + 1e-8).squareRoot()
    }
    expect(p, expected, 1e-10)
  }

  @Test func adamWDecouplesDecay() {
    let p = parameter()
    AdamW(learningRate: 0.01, weightDecay: 0.1).update([p])
    // First step: m̂ = g, v̂ = g², so the adaptive step is lr · g / (|g| + ε) ≈ lr · sign(g).
    let expected = [1.0, -2.0].enumerated().map { i, w in
      let g = [0.5, 0.25][i]
      return w - 0.01 * g / ((g * g).squareRoot() + 1e-8) - 0.01 * 0.1 * w
    }
    expect(p, expected, 1e-10)
  }

  @Test func rmsProp() {
    let p = parameter()
    RMSProp(learningRate: 0.01, decay: 0.9, epsilon: 1e-8).update([p])
    let expected = [(1.0, 0.5), (-2.0, 0.25)].map { w, g in
      w - 0.01 * g / ((0.1 * g * g).squareRoot() + 1e-8)
    }
    expect(p, expected, 1e-10)
  }

  @Test func floatParametersUpdateInTheirOwnPrecision() {
    let p = Var(Tensor([Float(1), -2], shape: [2]))
    p.grad = Tensor([Float(0.5), 0.25], shape: [2])
    SGD(learningRate: 0.1).update([p])
    #expect(p.value.dtype == .float32)
    #expect(p.value.scalars(as: Float.self) == [0.95, -2.025])
  }

  /// A gradient assigned by hand in the default dtype (Float) to a Double parameter is
  /// converted to the parameter's dtype, as `set(_:)` converts values.
  @Test func aGradientOfTheOtherDTypeIsConvertedToTheParameters() {
    let p = Var(Tensor([1, -2], dtype: .float64))
    p.grad = Tensor([0.5, 0.25])
    #expect(p.grad!.dtype == .float32)
    SGD(learningRate: 0.1, momentum: 0.9).update([p])
    #expect(p.value.dtype == .float64)
    expect(p, [1 - 0.05, -2 - 0.025])
    let q = Var(Tensor([1, -2]))
    q.grad = Tensor([0.5, 0.25], dtype: .float64)
    Adam(learningRate: 0.01).update([q])
    #expect(q.value.dtype == .float32)
  }

  /// An optimizer's state belongs to each parameter, not to the list it is updated in:
  /// updating [a, b] together equals updating a and b in lists of their own, in any order.
  /// (Adam counts its updates, t, once per call, so it is given one list per step, in
  /// either order.)
  @Test(arguments: ["SGD", "Adam", "RMSProp"])
  func stateFollowsEachParameter(kind: String) {
    func make() -> Optimizer {
      switch kind {
      case "SGD": return SGD(learningRate: 0.1, momentum: 0.9)
      case "Adam": return Adam(learningRate: 0.1)
      default: return RMSProp(learningRate: 0.1)
      }
    }
    let (together, apart) = (make(), make())
    let (a, b) = (parameter(), Var(Tensor([3, 0.5, -1], dtype: .float64)))
    let (a2, b2) = (parameter(), Var(Tensor([3, 0.5, -1], dtype: .float64)))
    for step in 0..<4 {
      let gradient = Tensor([0.1 * Double(step), -0.2, 0.3], dtype: .float64)
      (b.grad, b2.grad) = (gradient, gradient)
      (a.grad, a2.grad) = (a.value, a2.value)
      together.update([a, b])
      if kind == "Adam" {
        apart.update(step % 2 == 0 ? [b2, a2] : [a2, b2])
      } else if step % 2 == 0 {
        apart.update([b2])
        apart.update([a2])
      } else {
        apart.update([a2, b2])
      }
      #expect(a.value == a2.value && b.value == b2.value, "step \(step)")
    }
  }

  /// A large parameter is updated a range at a time over two threads; every element gets
  /// exactly the update it gets on one thread, for each optimizer and both dtypes, over
  /// several steps (the state tensors are split along with the value).
  @Test(arguments: ["SGD", "Adam", "RMSProp"])
  func splitUpdatesEqualOneThreadsUpdates(kind: String) {
    func make() -> Optimizer {
      switch kind {
      case "SGD": return SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
      case "Adam": return Adam(learningRate: 0.1)
      default: return RMSProp(learningRate: 0.1)
      }
    }
    for dtype in [DType.float32, .float64] {
      var rng = SeededGenerator(seed: 3)
      let count = 70_001  // several ranges and a short last one
      let start = Tensor.normal([count], dtype: dtype, using: &rng)
      let (split, single) = (Var(start), Var(start))
      let (splitOptimizer, singleOptimizer) = (make(), make())
      for _ in 0..<3 {
        let gradient = Tensor.normal([count], dtype: dtype, using: &rng)
        (split.grad, single.grad) = (gradient, gradient)
        ComputeSettings.withThreads(2, minimumWork: 0) { splitOptimizer.update([split]) }
        ComputeSettings.withThreads(1) { singleOptimizer.update([single]) }
      }
      #expect(split.value == single.value, "\(kind), \(dtype)")
      #expect(split.value != start)
    }
  }

  /// SGD keeps its velocity while its momentum is set to 0 for a while, as before the
  /// change of setting: the steps at momentum 0 are plain steps, and the velocity is where
  /// it was when the momentum comes back.
  @Test func sgdKeepsItsVelocityThroughStepsWithoutMomentum() {
    let (p, q) = (parameter(), parameter())
    let (paused, steady) = (
      SGD(learningRate: 0.1, momentum: 0.9), SGD(learningRate: 0.1, momentum: 0.9)
    )
    paused.update([p])
    steady.update([q])
    let velocity = paused.state(for: [p]).tensors[0]
    paused.momentum = 0
    paused.update([p])
    #expect(paused.state(for: [p]).tensors[0] == velocity)
    paused.momentum = 0.9
    paused.update([p])
    // The same as a steady run's second step, after the plain step in between.
    let plain = SGD(learningRate: 0.1)
    plain.update([q])
    steady.update([q])
    #expect(p.value == q.value)
  }

  /// An optimizer does not keep a parameter that nothing else holds, nor hand its state to
  /// a new parameter.
  @Test func optimizerDoesNotKeepDroppedParameters() {
    let sgd = SGD(learningRate: 0.1, momentum: 0.9)
    weak var dropped: Var?
    do {
      let p = parameter()
      dropped = p
      sgd.update([p])
    }
    #expect(dropped == nil)
    let fresh = parameter()
    #expect(sgd.state(for: [fresh]).tensors[0].isEmpty)
    sgd.update([fresh])
    #expect(sgd.state(for: [fresh]).tensors[0].count == 1)
  }

  @Test func schedules() {
    #expect(InverseTimeDecay(decay: 0.1).learningRate(base: 1, step: 10) == 0.5)
    #expect(StepDecay(stepSize: 10, factor: 0.5).learningRate(base: 1, step: 25) == 0.25)
    #expect(abs(ExponentialDecay(rate: 0.9).learningRate(base: 1, step: 2) - 0.81) < 1e-12)
    let cosine = CosineDecay(totalSteps: 100, minimum: 0.1)
    #expect(cosine.learningRate(base: 1, step: 0) == 1)
    #expect(abs(cosine.learningRate(base: 1, step: 50) - 0.55) < 1e-12)
    #expect(abs(cosine.learningRate(base: 1, step: 100) - 0.1) < 1e-12)
  }

  @Test func clipping() {
    let a = Var(Tensor([0, 0], dtype: .float64))
    let b = Var(Tensor([0], dtype: .float64))
    a.grad = Tensor([3, 0], dtype: .float64)
    b.grad = Tensor([4], dtype: .float64)
    let norm = clipGradients([a, b], maxNorm: 1)
    #expect(norm == 5)
    #expect(abs(a.grad![0] - 0.6) < 1e-15 && a.grad![1] == 0)
    #expect(abs(b.grad![0] - 0.8) < 1e-15)
    clipGradients([a, b], maxValue: 0.7)
    #expect(b.grad == Tensor([0.7], dtype: .float64))
    // Both ends of the range.
    a.grad = Tensor([-3, 0.2], dtype: .float64)
    clipGradients([a], maxValue: 0.7)
    #expect(a.grad == Tensor([-0.7, 0.2], dtype: .float64))
  }
}
