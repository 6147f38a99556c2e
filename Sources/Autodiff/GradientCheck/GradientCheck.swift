import Foundation

/// Checks an op's gradients against central finite differences in `Double`.
///
/// The function's output is reduced to a scalar with fixed random weights,
/// L = Σ wᵢ fᵢ(x), because a plain sum would hide errors that cancel (in softmax, for
/// instance, the gradient of Σ softmax(x) is zero whatever the backward rule). For every
/// input element, the numerical derivative (L(x + ε) − L(x − ε)) / 2ε, with L recomputed by
/// ``Var/evaluate()``, is compared with the result of ``Var/backward(_:)``. The same
/// gradient is computed a second way, through the differentiable rules of
/// ``gradients(of:withRespectTo:seed:createGraph:)``, and, unless disabled, a Hessian-vector
/// product through those rules is compared with finite differences of gradients.
///
/// ```swift
/// let check = GradientCheck("cube", inputs: [.init([3], in: -2...2)]) { x in
///   x[0] * x[0] * x[0]
/// }
/// print(check.run())
/// // cube: max abs 2.6e-10, max rel 8.7e-11, second order 1.3e-05, Float 8.2e-04: ok
/// ```
public struct GradientCheck: Sendable, CustomStringConvertible {
  /// The shape of one input and the interval its values are drawn from.
  public struct Input: Sendable {
    public var shape: [Int]
    public var domain: ClosedRange<Double>
    /// When true, each value gets a random sign: `0.2...2` then means ±[0.2, 2], which keeps
    /// inputs away from a kink at zero.
    public var randomSign: Bool

    public init(_ shape: [Int], in domain: ClosedRange<Double> = -2...2, randomSign: Bool = false) {
      self.shape = shape
      self.domain = domain
      self.randomSign = randomSign
    }
  }

  /// Tolerances: a gradient passes when |analytic − numeric| ≤ absolute + relative · |numeric|.
  public struct Tolerance: Sendable {
    public var epsilon: Double
    public var absolute: Double
    public var relative: Double

    public init(epsilon: Double, absolute: Double, relative: Double) {
      self.epsilon = epsilon
      self.absolute = absolute
      self.relative = relative
    }

    /// PyTorch gradcheck's defaults: ε = 1e-6, atol = 1e-5, rtol = 1e-3.
    public static let standard = Tolerance(epsilon: 1e-6, absolute: 1e-5, relative: 1e-3)
  }

  /// The outcome of a check.
  public struct Result: Sendable, CustomStringConvertible {
    public var name: String
    /// The largest |analytic − numeric| over all input elements.
    public var maxAbsoluteError: Double
    /// The largest |analytic − numeric| / Swift.max(|numeric|, 1e-12).
    public var maxRelativeError: Double
    /// The largest violation ratio of the tolerance (≤ 1 passes) of the differentiable-rule
    /// gradient against the fast backward.
    public var ruleMismatch: Double
    /// The largest tolerance ratio of the Hessian-vector product, or nil when not checked.
    public var secondOrderMismatch: Double?
    /// The largest tolerance ratio of the `Float` value and gradients against the `Double`
    /// ones at the same inputs, or nil when not checked.
    public var floatMismatch: Double?
    /// Which comparisons failed, in words (empty when the check passed).
    public var failures: [String]
    public var passed: Bool { failures.isEmpty }

    public var description: String {
      var text =
        "\(name): max abs \(format(maxAbsoluteError)), max rel \(format(maxRelativeError))"
      if let secondOrderMismatch { text += ", second order \(format(secondOrderMismatch))" }
      if let floatMismatch { text += ", Float \(format(floatMismatch))" }
      return text + (passed ? ": ok" : ": FAILED: " + failures.joined(separator: "; "))
    }
  }

  public var name: String
  public var inputs: [Input]
  /// Whether to check a Hessian-vector product too (off for ops that are only first-order
  /// differentiable in the library, or whose second derivative is undefined on the domain).
  public var checksSecondOrder: Bool
  /// Whether ``run(seed:tolerance:)`` also holds the function's `Float` value and gradients
  /// to its `Double` ones (off for functions that draw random numbers, whose two runs
  /// would differ).
  public var checksFloat: Bool
  /// The tolerances used by ``run(seed:tolerance:)`` unless it is given others.
  public var tolerance: Tolerance
  public var function: @Sendable ([Var]) -> Var

  public init(
    _ name: String, inputs: [Input], secondOrder: Bool = true, float: Bool = true,
    tolerance: Tolerance = .standard, _ function: @escaping @Sendable ([Var]) -> Var
  ) {
    self.name = name
    self.inputs = inputs
    self.checksSecondOrder = secondOrder
    self.checksFloat = float
    self.tolerance = tolerance
    self.function = function
  }

  public var description: String { name }

  /// Runs the check in `Double` with inputs drawn from a generator seeded with `seed`, then,
  /// unless ``checksFloat`` is off, runs the function again in `Float` at the same inputs
  /// and compares its value and gradients with the `Double` ones.
  ///
  /// The inputs are drawn as `Float` values, so that both runs see exactly the same
  /// numbers. Finite differences in `Float` would mean little (their error is about
  /// √(Float.ulpOfOne) ≈ 3e-4); the `Float` kernels and rules are instead held to the
  /// `Double` result: each value and gradient within 1e-4 relative plus 1e-5 of the
  /// tensor's largest magnitude (a `Float` rounding error is about 6e-8 relative).
  public func run(seed: UInt64 = 1, tolerance: Tolerance? = nil) -> Result {
    let tolerance = tolerance ?? self.tolerance
    var rng = SeededGenerator(seed: seed)
    let values = inputs.map { input -> Tensor in
      var t = Tensor.uniform(input.shape, in: input.domain, dtype: .float64, using: &rng)
      if input.randomSign {
        for i in 0..<t.count where Bool.random(using: &rng) { t[flat: i] = -t[flat: i] }
      }
      return t.converted(to: .float32).converted(to: .float64)
    }
    let leaves = values.map { Var($0) }
    var result = Self.check(
      function(leaves), withRespectTo: leaves, name: name, tolerance: tolerance,
      secondOrder: checksSecondOrder, rng: &rng)
    if checksFloat {
      let mismatch = floatMismatch(at: values, rng: &rng)
      result.floatMismatch = mismatch
      if !(mismatch <= 1) {
        result.failures.append(
          "the Float value or gradients differ from the Double ones (\(format(mismatch))× the tolerance)"
        )
      }
    }
    return result
  }

  /// The worst ratio to the Float tolerance of the function's value and gradients in
  /// `Float` against `Double`, at the same inputs, with the same random output weights.
  private func floatMismatch(at values: [Tensor], rng: inout SeededGenerator) -> Double {
    func evaluate(_ dtype: DType, weightsSeed: UInt64) -> (Tensor, [Tensor]) {
      let leaves = values.map { Var($0.converted(to: dtype)) }
      let output = function(leaves)
      var weightRNG = SeededGenerator(seed: weightsSeed)
      let weights = Tensor.normal(output.shape, dtype: .float64, using: &weightRNG)
      (output * Var.constant(weights.converted(to: output.dtype))).sum().backward()
      return (
        output.value.converted(to: .float64),
        leaves.map { ($0.grad ?? Tensor.zeros($0.shape, dtype: dtype)).converted(to: .float64) }
      )
    }
    let weightsSeed = rng.next()
    let (value64, gradients64) = evaluate(.float64, weightsSeed: weightsSeed)
    let (value32, gradients32) = evaluate(.float32, weightsSeed: weightsSeed)
    var worst = 0.0
    for (a, b) in zip([value32] + gradients32, [value64] + gradients64) {
      let scale = b.scalars.reduce(0) { Swift.max($0, Swift.abs($1)) }
      let tolerance = Tolerance(epsilon: 0, absolute: 1e-5 * Swift.max(scale, 1e-3), relative: 1e-4)
      worst = Swift.max(worst, Self.mismatch(a, b, tolerance))
    }
    return worst
  }

  /// Checks the gradients of a graph already built on `leaves`, such as a layer's output
  /// with respect to its input and its parameters, exactly as ``run(seed:tolerance:)``
  /// checks a registered op. The leaves must hold `Double` values; they are restored after
  /// the check.
  ///
  /// ```swift
  /// let layer = LSTM(inputSize: 2, hiddenSize: 3, dtype: .float64, using: &rng)
  /// let x = Var(Tensor.normal([2, 4, 2], using: &rng))
  /// let result = GradientCheck.check(layer(x), withRespectTo: [x] + layer.parameters)
  /// ```
  public static func check(
    _ output: Var, withRespectTo leaves: [Var], name: String = "graph",
    tolerance: Tolerance = .standard, secondOrder: Bool = true, seed: UInt64 = 1
  ) -> Result {
    var rng = SeededGenerator(seed: seed)
    return check(
      output, withRespectTo: leaves, name: name, tolerance: tolerance, secondOrder: secondOrder,
      rng: &rng)
  }

  private static func check(
    _ output: Var, withRespectTo leaves: [Var], name: String, tolerance: Tolerance,
    secondOrder checksSecondOrder: Bool, rng: inout SeededGenerator
  ) -> Result {
    require(output.dtype == .float64, "GradientCheck \(name): output is not Double")
    for leaf in leaves {
      require(
        leaf.isLeaf && leaf.dtype == .float64,
        "GradientCheck \(name): \(leaf.name ?? "an input") is not a Double leaf")
    }
    let savedGradients = leaves.map(\.grad)
    defer { for (leaf, g) in zip(leaves, savedGradients) { leaf.grad = g } }
    for leaf in leaves { leaf.grad = nil }
    let weights = Var.constant(Tensor.normal(output.shape, dtype: .float64, using: &rng))
    let loss = (output * weights).sum()

    loss.zeroGradients()
    loss.backward()
    let analytic = leaves.map { $0.grad ?? Tensor.zeros($0.shape, dtype: .float64) }

    // Central differences, recomputing the graph with evaluate().
    var maxAbs = 0.0
    var maxRel = 0.0
    var failures: [String] = []
    var worstNumeric = 0.0
    for (k, leaf) in leaves.enumerated() {
      var x = leaf.value
      for i in 0..<x.count {
        let original = x[flat: i]
        x[flat: i] = original + tolerance.epsilon
        leaf.set(x)
        loss.evaluate()
        let plus = loss.value.scalar
        x[flat: i] = original - tolerance.epsilon
        leaf.set(x)
        loss.evaluate()
        let minus = loss.value.scalar
        x[flat: i] = original
        leaf.set(x)
        let numeric = (plus - minus) / (2 * tolerance.epsilon)
        let error = Swift.abs(analytic[k][flat: i] - numeric)
        maxAbs = Swift.max(maxAbs, error)
        maxRel = Swift.max(maxRel, error / Swift.max(Swift.abs(numeric), 1e-12))
        let ratio = error / (tolerance.absolute + tolerance.relative * Swift.abs(numeric))
        worstNumeric = Swift.max(worstNumeric, ratio.isNaN ? .infinity : ratio)
      }
    }
    loss.evaluate()
    if !(worstNumeric <= 1) {
      failures.append(
        "backward() differs from central finite differences (\(format(worstNumeric))× the tolerance)"
      )
    }

    // The differentiable rules must give the same first-order gradient.
    let viaRules = gradients(of: loss, withRespectTo: leaves)
    var ruleMismatch = 0.0
    for (a, b) in zip(analytic, viaRules) {
      ruleMismatch = Swift.max(ruleMismatch, mismatch(b.value, a, tolerance))
    }
    if !(ruleMismatch <= 1) {
      failures.append(
        "the differentiable rules (gradients(of:)) differ from backward() (\(format(ruleMismatch))× the tolerance)"
      )
    }

    var secondOrder: Double?
    if checksSecondOrder {
      let ratio = hessianVectorMismatch(leaves, loss: loss, tolerance: tolerance, rng: &rng)
      secondOrder = ratio
      if !(ratio <= 1) {
        failures.append(
          "the Hessian-vector product differs from finite differences of gradients (\(format(ratio))× the tolerance)"
        )
      }
    }
    return Result(
      name: name, maxAbsoluteError: maxAbs, maxRelativeError: maxRel, ruleMismatch: ruleMismatch,
      secondOrderMismatch: secondOrder, floatMismatch: nil, failures: failures)
  }

  /// Compares H·v, computed by differentiating v·∇L through the graph of the gradient, with
  /// (∇L(x + εv) − ∇L(x − εv)) / 2ε. Returns the worst tolerance ratio (≤ 1 passes).
  private static func hessianVectorMismatch(
    _ leaves: [Var], loss: Var, tolerance: Tolerance, rng: inout SeededGenerator
  ) -> Double {
    let directions = leaves.map { Tensor.normal($0.shape, dtype: .float64, using: &rng) }
    let grads = gradients(of: loss, withRespectTo: leaves, createGraph: true)
    var product: Var = Var.constant(Tensor(scalar: 0, dtype: .float64))
    for (g, v) in zip(grads, directions) { product = product + (g * Var.constant(v)).sum() }
    let hv = gradients(of: product, withRespectTo: leaves)

    let h = 1e-5
    func gradientAt(_ sign: Double) -> [Tensor] {
      for (leaf, v) in zip(leaves, directions) {
        var x = leaf.value
        for i in 0..<x.count { x[flat: i] += sign * h * v[flat: i] }
        leaf.set(x)
      }
      loss.evaluate()
      let g = gradients(of: loss, withRespectTo: leaves).map(\.value)
      for (leaf, v) in zip(leaves, directions) {
        var x = leaf.value
        for i in 0..<x.count { x[flat: i] -= sign * h * v[flat: i] }
        leaf.set(x)
      }
      return g
    }
    let plus = gradientAt(1)
    let minus = gradientAt(-1)
    loss.evaluate()
    var worst = 0.0
    for k in leaves.indices {
      var numeric = plus[k]
      for i in 0..<numeric.count {
        numeric[flat: i] = (plus[k][flat: i] - minus[k][flat: i]) / (2 * h)
      }
      // Finite differences of gradients are less accurate than of values: relax by 10×.
      let relaxed = Tolerance(
        epsilon: h, absolute: tolerance.absolute * 10, relative: tolerance.relative * 10)
      worst = Swift.max(worst, mismatch(hv[k].value, numeric, relaxed))
    }
    return worst
  }

  private static func mismatch(_ a: Tensor, _ b: Tensor, _ t: Tolerance) -> Double {
    require(a.shape == b.shape, "GradientCheck: gradient shapes \(a.shape) and \(b.shape)")
    var worst = 0.0
    for i in 0..<a.count {
      let error = Swift.abs(a[flat: i] - b[flat: i])
      let ratio = error / (t.absolute + t.relative * Swift.abs(b[flat: i]))
      worst = Swift.max(worst, ratio.isNaN ? .infinity : ratio)
    }
    return worst
  }
}

private func format(_ x: Double) -> String {
  x == 0 ? "0" : String(format: "%.1e", x)
}
