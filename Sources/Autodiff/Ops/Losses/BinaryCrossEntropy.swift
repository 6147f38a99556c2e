import Foundation

/// The binary cross-entropy −(t ln y + (1 − t) ln(1 − y)) of probabilities y against targets
/// t in [0, 1], averaged (or summed) over all elements.
///
/// y is clamped to [ε, 1 − ε] with ε = 1e-7 so that a saturated prediction gives a large
/// finite loss rather than infinity. One fused op; ``composedBinaryCrossEntropy(predicted:target:epsilon:reduction:)``
/// is the same loss built from clamp, log and arithmetic, and serves as its oracle.
///
/// Backward: ∂L/∂y = (y − t) / (y(1 − y)) per element (÷ n for the mean), 0 where clamped;
/// ∂L/∂t = ln(1 − y) − ln y.
public func binaryCrossEntropy(
  predicted: Var, target: Var, epsilon: Double = 1e-7, reduction: LossReduction = .mean
) -> Var {
  require(
    predicted.shape == target.shape,
    "binaryCrossEntropy: predicted \(predicted.shape) and target \(target.shape) differ")
  let mean = reduction == .mean
  return Var.fused(
    name: "binaryCrossEntropy", args: [predicted, target],
    forward: { args, value in
      Kernels.binaryCrossEntropy(args[0].value, args[1].value, epsilon, mean, into: &value)
    },
    backward: { args, _, s in
      let (y, t) = (args[0], args[1])
      let scale = s.scalar / (mean ? Double(Swift.max(y.value.count, 1)) : 1)
      let gy = y.gradientPointer()
      let gt = t.gradientPointer()
      Kernels.binaryCrossEntropyBackward(y.value, t.value, epsilon, scale, gy, gt)
    },
    composed: { args in
      composedBinaryCrossEntropy(
        predicted: args[0], target: args[1], epsilon: epsilon, reduction: reduction)
    })
}

/// Binary cross-entropy built from primitive ops: the oracle of the fused
/// ``binaryCrossEntropy(predicted:target:epsilon:reduction:)``.
public func composedBinaryCrossEntropy(
  predicted: Var, target: Var, epsilon: Double = 1e-7, reduction: LossReduction = .mean
) -> Var {
  let y = predicted.clamped(to: epsilon...(1 - epsilon))
  let terms = -(target * y.log() + (1 - target) * (1 - y).log())
  return reduction == .mean ? terms.mean() : terms.sum()
}

extension Kernels {
  /// Writes the loss into `value` (rank 0, y's dtype), reusing its storage.
  static func binaryCrossEntropy(
    _ y: Tensor, _ t: Tensor, _ epsilon: Double, _ mean: Bool, into value: inout Tensor
  ) {
    var total = 0.0
    switch y.dtype {
    case .float32: total = bceTotal(Float.self, y, t, Float(epsilon))
    case .float64: total = bceTotal(Double.self, y, t, epsilon)
    }
    value.prepare(shape: [], dtype: y.dtype)
    value.storeScalar(mean ? total / Double(Swift.max(y.count, 1)) : total)
  }

  private static func bceTotal<T: TensorScalar>(_: T.Type, _ y: Tensor, _ t: Tensor, _ epsilon: T)
    -> Double
  {
    let (yp, tp) = (y.pointer(as: T.self), t.pointer(as: T.self))
    var total = T.zero
    forEachChunkOfLogs(y, epsilon) { start, count, logP, logQ in
      for i in 0..<count {
        let p = Swift.min(Swift.max(yp[start + i], epsilon), 1 - epsilon)
        let t = tp[start + i]
        // A target of exactly 0 or 1 keeps one term: the other is zero times a finite log
        // (both logs are finite for p strictly between 0 and 1; with ε = 0, or one below
        // Float's resolution at 1, p can reach 0 or 1, and then 0 · ∞ is NaN, as it is in
        // the composed form).
        let inside = p > 0 && p < 1
        total -=
          inside && t == 0
          ? logQ[i] : inside && t == 1 ? logP[i] : t * logP[i] + (1 - t) * logQ[i]
      }
    }
    withExtendedLifetime((y, t)) {}
    return Double(total)
  }

  /// Calls `body(start, count, logP, logQ)` for each chunk of `y`'s elements, with
  /// logP[i] = ln p and logQ[i] = ln(1 − p) for the clamped p = min(max(y[start + i], ε), 1 − ε):
  /// the logs of a chunk taken together, by the `log` op's function (vectorized for Float),
  /// in buffers small enough for the stack.
  private static func forEachChunkOfLogs<T: TensorScalar>(
    _ y: Tensor, _ epsilon: T,
    _ body: (Int, Int, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>) -> Void
  ) {
    let yp = y.pointer(as: T.self)
    let chunk = 64
    withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * chunk) { buffer in
      let (logP, logQ) = (buffer.baseAddress!, buffer.baseAddress! + chunk)
      var start = 0
      while start < y.count {
        let count = Swift.min(chunk, y.count - start)
        for i in 0..<count {
          logP[i] = Swift.min(Swift.max(yp[start + i], epsilon), 1 - epsilon)
          logQ[i] = 1 - logP[i]
        }
        logarithms(logP, count: count)
        logarithms(logQ, count: count)
        body(start, count, logP, logQ)
        start += count
      }
    }
    withExtendedLifetime(y) {}
  }

  /// `x[i] = ln x[i]` for `count` elements, in place: what the `log` op computes (its
  /// vectorized kernel for Float, unless the portable kernels are chosen).
  private static func logarithms<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, count: Int) {
    if T.self == Float.self, let kernel = LogFunction.floatKernel,
      ComputeSettings.kernelLevel > .portable
    {
      let xf = UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self)
      kernel(xf, xf, count)
    } else {
      for i in 0..<count { x[i] = T.log(x[i]) }
    }
  }

  static func binaryCrossEntropyBackward(
    _ y: Tensor, _ t: Tensor, _ epsilon: Double, _ scale: Double,
    _ gy: UnsafeMutableRawPointer?, _ gt: UnsafeMutableRawPointer?
  ) {
    switch y.dtype {
    case .float32:
      bceBackward(
        Float.self, y, t, Float(epsilon), Float(scale), gy?.assumingMemoryBound(to: Float.self),
        gt?.assumingMemoryBound(to: Float.self))
    case .float64:
      bceBackward(
        Double.self, y, t, epsilon, scale, gy?.assumingMemoryBound(to: Double.self),
        gt?.assumingMemoryBound(to: Double.self))
    }
  }

  private static func bceBackward<T: TensorScalar>(
    _: T.Type, _ y: Tensor, _ t: Tensor, _ epsilon: T, _ scale: T,
    _ gy: UnsafeMutablePointer<T>?, _ gt: UnsafeMutablePointer<T>?
  ) {
    let (yp, tp) = (y.pointer(as: T.self), t.pointer(as: T.self))
    if let gy {
      for i in 0..<y.count {
        let inside = yp[i] >= epsilon && yp[i] <= 1 - epsilon
        let p = Swift.min(Swift.max(yp[i], epsilon), 1 - epsilon)
        if inside { gy[i] += scale * (p - tp[i]) / (p * (1 - p)) }
      }
    }
    if let gt {
      forEachChunkOfLogs(y, epsilon) { start, count, logP, logQ in
        for i in 0..<count { gt[start + i] += scale * (logQ[i] - logP[i]) }
      }
    }
    withExtendedLifetime((y, t)) {}
  }
}

/// The binary cross-entropy of σ(logits) against targets, computed stably from the logits as
/// softplus(x) − t·x, which never forms σ(x) and so never takes the log of 0.
///
/// Backward: ∂L/∂x = σ(x) − t per element (÷ n for the mean); ∂L/∂t = −x.
public func binaryCrossEntropy(logits: Var, target: Var, reduction: LossReduction = .mean) -> Var {
  require(
    logits.shape == target.shape,
    "binaryCrossEntropy: logits \(logits.shape) and target \(target.shape) differ")
  let terms = logits.softplus() - target * logits
  return reduction == .mean ? terms.mean() : terms.sum()
}

extension GradientCheck {
  static let binaryCrossEntropy = GradientCheck(
    "binaryCrossEntropy", inputs: [.init([3, 4], in: 0.05...0.95), .init([3, 4], in: 0...1)]
  ) { Autodiff.binaryCrossEntropy(predicted: $0[0], target: $0[1]) }
  static let binaryCrossEntropySum = GradientCheck(
    "binaryCrossEntropy (sum)", inputs: [.init([5], in: 0.05...0.95), .init([5], in: 0...1)]
  ) { Autodiff.binaryCrossEntropy(predicted: $0[0], target: $0[1], reduction: .sum) }
  static let binaryCrossEntropyLogits = GradientCheck(
    "binaryCrossEntropy (logits)", inputs: [.init([3, 4], in: -5...5), .init([3, 4], in: 0...1)]
  ) { Autodiff.binaryCrossEntropy(logits: $0[0], target: $0[1]) }
}

@available(*, deprecated, renamed: "binaryCrossEntropy(predicted:target:epsilon:reduction:)")
public func binaryCrossEntropy(
  predicted: Var, expected: Var, epsilon: Double = 1e-7, reduction: LossReduction = .mean
) -> Var {
  binaryCrossEntropy(predicted: predicted, target: expected, epsilon: epsilon, reduction: reduction)
}

@available(*, deprecated, renamed: "binaryCrossEntropy(logits:target:reduction:)")
public func binaryCrossEntropy(logits: Var, expected: Var, reduction: LossReduction = .mean)
  -> Var
{ binaryCrossEntropy(logits: logits, target: expected, reduction: reduction) }
