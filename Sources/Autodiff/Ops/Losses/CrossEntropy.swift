/// The categorical cross-entropy of softmax(logits) against class labels, averaged over the
/// batch (or summed): −(1/n) Σᵢ ln softmax(xᵢ)[labelᵢ], computed as
/// logSumExp(xᵢ) − xᵢ[labelᵢ] so that no probability underflows to a log of zero.
///
/// Backward, fused: ∂L/∂x = (softmax(x) − onehot(labels)) / n, the course's `y − t`,
/// with the softmax saved in the forward. With label smoothing ρ the target is 1 − ρ for the
/// true class and ρ/(K − 1) for the others.
///
/// Logits of higher rank, such as a sequence model's `[batch, time, K]` with labels
/// `[batch, time]`, are scored at every position: the mean is over all positions.
///
/// - Parameters:
///   - logits: Scores of shape [n, K] (or [n₁, n₂, …, K]).
///   - labels: Class indices in 0..<K, shape [n] (or [n₁, n₂, …]; see ``Var/labels(_:dtype:)``).
///   - labelSmoothing: ρ in [0, 1).
///   - reduction: The mean over rows (default) or the sum.
public func crossEntropy(
  logits: Var, labels: Var, labelSmoothing: Double = 0, reduction: LossReduction = .mean
) -> Var {
  require(logits.rank >= 2, "crossEntropy: logits must be [n, classes], got \(logits.shape)")
  require(
    labels.shape == Array(logits.shape.dropLast()),
    "crossEntropy: labels \(labels.shape) do not match logits \(logits.shape)")
  if logits.rank > 2 {
    return crossEntropy(
      logits: logits.reshaped([-1, logits.shape.last!]), labels: labels.reshaped([-1]),
      labelSmoothing: labelSmoothing, reduction: reduction)
  }
  var targets = labels.oneHot(classes: logits.shape[1], dtype: logits.dtype)
  if labelSmoothing > 0 {
    let k = Double(logits.shape[1])
    targets = targets * (1 - labelSmoothing - labelSmoothing / (k - 1)) + labelSmoothing / (k - 1)
  }
  return crossEntropy(logits: logits, target: targets, reduction: reduction)
}

/// The cross-entropy with class indices given as an array.
///
/// - Parameters:
///   - logits: Scores of shape [n, K].
///   - labels: Class indices in 0..<K, one per row.
///   - labelSmoothing: ρ in [0, 1).
///   - reduction: The mean over rows (default) or the sum.
public func crossEntropy(
  logits: Var, labels: [Int], labelSmoothing: Double = 0, reduction: LossReduction = .mean
) -> Var {
  crossEntropy(
    logits: logits, labels: Var.labels(labels, dtype: logits.dtype),
    labelSmoothing: labelSmoothing, reduction: reduction)
}

/// The cross-entropy of softmax(logits) against target distributions t (soft labels):
/// −(1/n) Σᵢ Σₖ tᵢₖ ln softmax(xᵢ)ₖ, where the mean is over the n rows that have a target.
/// A row of zeros is no target: it adds nothing and is left out of the mean. That is how a
/// padded step of a sequence, labelled −1 (see ``Var/oneHot(classes:dtype:)``), is ignored.
///
/// One fused op, which saves log softmax(x) in the forward;
/// ``composedCrossEntropy(logits:target:reduction:)`` is the same loss built from
/// `logSoftmax` and arithmetic, and serves as its oracle (and as its differentiable rule).
///
/// Backward, fused: ∂L/∂x = (softmax(x) Σₖ tₖ − t) / n, which is (softmax − t) / n when each
/// target row sums to one; ∂L/∂t = −logSoftmax(x) / n.
public func crossEntropy(logits: Var, target targets: Var, reduction: LossReduction = .mean)
  -> Var
{
  require(
    logits.rank == 2 && targets.shape == logits.shape,
    "crossEntropy: logits \(logits.shape) and targets \(targets.shape) differ")
  let saved = SavedTensor()
  let mean = reduction == .mean
  return Var.fused(
    name: "crossEntropy", args: [logits, targets],
    forward: { args, value in
      Kernels.softmax(args[0].value, 1, log: true, into: &saved.tensor)
      value.assign(
        Kernels.crossEntropy(
          logProbabilities: saved.tensor, targets: args[1].value, mean: mean))
    },
    backward: { args, _, s in
      let (x, t) = (args[0], args[1])
      let scale = s.scalar / (mean ? Double(Kernels.rowsWithTargets(t.value)) : 1)
      if let g = x.gradientPointer() {
        Kernels.crossEntropyBackward(
          logProbabilities: saved.tensor, targets: t.value, scale: scale, into: g)
      }
      if t.requiresGrad {
        var logP = saved.tensor
        logP.makeUnique()
        for i in 0..<logP.count { logP[flat: i] *= -scale }
        t.accumulateGradient(logP)
      }
    },
    composed: { args in
      composedCrossEntropy(logits: args[0], target: args[1], reduction: reduction)
    })
}

/// Softmax cross-entropy built from primitive ops: the oracle of the fused
/// ``crossEntropy(logits:target:reduction:)``. The mean divides by the number of rows that
/// have a target, a count recomputed on every evaluation.
public func composedCrossEntropy(
  logits: Var, target: Var, reduction: LossReduction = .mean
) -> Var {
  let total = -(target * logits.logSoftmax()).sum()
  return reduction == .mean ? total / target.targetRowCount() : total
}

extension Var {
  /// The number of rows of a target matrix that have a nonzero entry (at least 1), as a
  /// node recomputed on every evaluation: the divisor of a mean over the rows that have a
  /// target. No gradient flows through it.
  func targetRowCount() -> Var {
    .piecewiseConstant("targetRows", args: [self]) { args, value in
      let t = args[0].value
      value.assign(Tensor(scalar: Double(Kernels.rowsWithTargets(t)), dtype: t.dtype))
    }
  }
}

extension Kernels {
  static func crossEntropy(logProbabilities logP: Tensor, targets t: Tensor, mean: Bool) -> Tensor {
    let total: Double
    switch logP.dtype {
    case .float32: total = crossEntropyTotal(Float.self, logP, t)
    case .float64: total = crossEntropyTotal(Double.self, logP, t)
    }
    let rows = Double(rowsWithTargets(t))
    return Tensor(scalar: mean ? total / rows : total, dtype: logP.dtype)
  }

  /// −Σ t ln p over the entries with a target, accumulated in `T`.
  private static func crossEntropyTotal<T: TensorScalar>(_: T.Type, _ logP: Tensor, _ t: Tensor)
    -> Double
  {
    let lp = logP.pointer(as: T.self)
    let tp = t.pointer(as: T.self)
    var total: T = 0
    for i in 0..<logP.count where tp[i] != 0 { total -= tp[i] * lp[i] }
    return Double(total)
  }

  /// The number of rows of `t` with a nonzero entry (at least 1, so that a batch of padding
  /// only has a mean of 0, not 0/0).
  static func rowsWithTargets(_ t: Tensor) -> Int {
    let k = t.shape.last ?? 1
    let rows = t.count / Swift.max(k, 1)
    var count = 0
    switch t.dtype {
    case .float32:
      t.withUnsafeBufferPointer(as: Float.self) { p in
        for i in 0..<rows where p[(i * k)..<((i + 1) * k)].contains(where: { $0 != 0 }) {
          count += 1
        }
      }
    case .float64:
      t.withUnsafeBufferPointer(as: Double.self) { p in
        for i in 0..<rows where p[(i * k)..<((i + 1) * k)].contains(where: { $0 != 0 }) {
          count += 1
        }
      }
    }
    return Swift.max(count, 1)
  }

  /// g += scale · (e^logP · Σₖ t − t).
  static func crossEntropyBackward(
    logProbabilities logP: Tensor, targets t: Tensor, scale: Double, into g: UnsafeMutableRawPointer
  ) {
    switch logP.dtype {
    case .float32: crossEntropyBackward(Float.self, logP, t, Float(scale), g)
    case .float64: crossEntropyBackward(Double.self, logP, t, scale, g)
    }
  }

  private static func crossEntropyBackward<T: TensorScalar>(
    _: T.Type, _ logP: Tensor, _ t: Tensor, _ scale: T, _ g: UnsafeMutableRawPointer
  ) {
    let (n, k) = (logP.shape[0], logP.shape[1])
    let lp = logP.pointer(as: T.self)
    let tp = t.pointer(as: T.self)
    let gp = g.assumingMemoryBound(to: T.self)
    let row = UnsafeMutablePointer<T>.allocate(capacity: k)
    defer { row.deallocate() }
    for i in 0..<n {
      var rowSum = T.zero
      for j in 0..<k { rowSum += tp[i * k + j] }
      row.update(from: lp + i * k, count: k)
      exponentiate(row, k)  // the softmax, from the saved log-probabilities
      for j in 0..<k {
        let idx = i * k + j
        gp[idx] += scale * (row[j] * rowSum - tp[idx])
      }
    }
    withExtendedLifetime((logP, t)) {}
  }
}

extension GradientCheck {
  static let crossEntropy = GradientCheck("crossEntropy (labels)", inputs: [.init([4, 5])]) {
    Autodiff.crossEntropy(logits: $0[0], labels: Var.labels([1, 0, 4, 1], dtype: .float64))
  }
  static let crossEntropySmoothed = GradientCheck(
    "crossEntropy (label smoothing, sum)", inputs: [.init([3, 4])]
  ) {
    Autodiff.crossEntropy(
      logits: $0[0], labels: Var.labels([3, 0, 2], dtype: .float64), labelSmoothing: 0.1,
      reduction: .sum)
  }
  static let crossEntropyIgnoringPadding = GradientCheck(
    "crossEntropy (labels with padding)", inputs: [.init([4, 3])]
  ) {
    Autodiff.crossEntropy(logits: $0[0], labels: Var.labels([2, -1, 0, -1], dtype: .float64))
  }
  static let crossEntropySoft = GradientCheck(
    "crossEntropy (soft targets)", inputs: [.init([3, 4]), .init([3, 4], in: 0...1)]
  ) { Autodiff.crossEntropy(logits: $0[0], target: $0[1]) }
}

@available(*, deprecated, renamed: "crossEntropy(logits:target:reduction:)")
public func crossEntropy(logits: Var, probabilities: Var, reduction: LossReduction = .mean)
  -> Var
{ crossEntropy(logits: logits, target: probabilities, reduction: reduction) }
