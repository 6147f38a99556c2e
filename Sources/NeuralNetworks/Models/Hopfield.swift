import Autodiff

/// A classical Hopfield network (Hopfield 1982): a content-addressable memory of N bipolar
/// units xⱼ ∈ {−1, 1}, coupled by a symmetric matrix W with zero diagonal, with biases b.
///
/// States are rows, as everywhere in the library. The energy of a state and the update of
/// a unit are
/// ```
/// E(x) = −½ x W xᵀ − b·x = −½ Σᵢⱼ xᵢ Wᵢⱼ xⱼ − Σⱼ bⱼ xⱼ
/// hⱼ   = Σᵢ xᵢ Wᵢⱼ + bⱼ          (the field, h = x W + b)
/// xⱼ  ← sign(hⱼ), and 1 when hⱼ = 0
/// ```
/// Changing unit j from xⱼ to xⱼ′ changes the energy by −(xⱼ′ − xⱼ) hⱼ (W is symmetric and
/// its diagonal is zero), which is never positive when xⱼ′ = sign(hⱼ): updating one unit at
/// a time never raises the energy, so asynchronous recall ends at a fixed point, a local
/// minimum of E. Updating every unit at once (synchronous recall) has no such guarantee: it
/// can fall into a cycle of two states.
///
/// **Sign convention.** The energy −½ xWxᵀ − b·x goes with the update sign(xW + b), as in
/// the course's text. The course's demo code uses −½ xWxᵀ + b·x with sign(xW − b): the same
/// network with b negated, and just as consistent (but the same stored b then means the
/// opposite: with b = the mean pattern, the text's pair pulls states toward it and the
/// demo's pushes them away). Mixing them, one pair's energy with the other's update, is
/// not consistent: the update can then raise the energy when b ≠ 0.
///
/// **Parameters.** W is symmetric with a zero diagonal by construction: the trainable matrix
/// A (``rawWeight``) contributes only its strictly upper triangle U = A ⊙ [i < j], and
/// W = U + Uᵀ, built from graph ops. Each coupling Wᵢⱼ = Wⱼᵢ is therefore one free number,
/// and gradient descent on the energy changes it by −κ ∂E/∂Wᵢⱼ = κ xᵢ xⱼ: the course's rule
/// dWᵢⱼ/dt = κ xᵢ xⱼ, db/dt = κ x. (The lower triangle and diagonal of A are unused; their
/// gradient is zero.)
///
/// **Storage.** ``storeHebbian(_:meanBias:)`` writes the Hebbian rule in closed form,
/// W = (1/M) Σₛ x⁽ˢ⁾ᵀx⁽ˢ⁾ − I and b = the mean pattern. The same rule is learned by the
/// ``Trainer`` as gradient descent on the patterns' mean energy (``LearningRule/meanEnergy``):
/// the energy is linear in W and b, so every step adds the same multiple of the Hebbian
/// parameters, and after any number of steps from zero the network is the Hebbian one up
/// to a positive factor (which recall ignores). ``LearningRule/margin(_:)`` goes beyond the
/// course: it makes every pattern a fixed point with a margin, and stores far more patterns
/// than the Hebbian rule's ≈ 0.14 N.
///
/// **Recall is not gradient descent.** ``recallSynchronously(_:maxSweeps:)`` and
/// ``recallAsynchronously(_:maxSweeps:using:afterEachUpdate:)`` run the threshold dynamics
/// above on the states; no gradient is involved. Training (storage) is what uses gradients,
/// and only on the parameters.
///
/// ```swift
/// let patterns = Datasets.orthogonalPatterns().inputs   // the course's four 16-bit patterns
/// let network = HopfieldNetwork(unitCount: 16)
/// network.storeHebbian(patterns)
/// var rng = SeededGenerator(seed: 1)
/// let probes = HopfieldNetwork.flippingBits(of: patterns, count: 3, using: &rng)
/// let recall = network.recallAsynchronously(probes, using: &rng)
/// print(recall.states == patterns)    // true
/// ```
public final class HopfieldNetwork: Module {
  /// N, the number of units.
  public let unitCount: Int
  /// A, `[N, N]`: the trainable matrix whose strictly upper triangle holds the couplings.
  public let rawWeight: Var
  /// b, `[N]`.
  public let bias: Var
  /// The constant [i < j], `[N, N]`.
  private let upperTriangle: Var

  /// A network of `unitCount` units with W = 0 and b = 0.
  public init(unitCount: Int, dtype: DType = .default) {
    require(unitCount > 0, "HopfieldNetwork: unit count \(unitCount) must be positive")
    self.unitCount = unitCount
    rawWeight = Var(Tensor.zeros([unitCount, unitCount], dtype: dtype), name: "A")
    bias = Var(Tensor.zeros([unitCount], dtype: dtype), name: "b")
    var mask = [Double](repeating: 0, count: unitCount * unitCount)
    for i in 0..<unitCount {
      for j in (i + 1)..<unitCount { mask[i * unitCount + j] = 1 }
    }
    upperTriangle = Var.constant(
      Tensor(mask, shape: [unitCount, unitCount], dtype: dtype), name: "[i<j]")
  }

  public override var ownParameters: [Var] { [rawWeight, bias] }

  /// The element type of the parameters.
  public var dtype: DType { bias.dtype }

  /// W = U + Uᵀ with U = A ⊙ [i < j]: symmetric with a zero diagonal, `[N, N]`.
  ///
  /// Backward: ∂L/∂Aᵢⱼ = ∂L/∂Wᵢⱼ + ∂L/∂Wⱼᵢ for i < j, and 0 elsewhere.
  public var weight: Var {
    let upper = rawWeight * upperTriangle
    return upper + upper.transposed()
  }

  /// The value of ``weight``, read straight from A without building graph nodes.
  ///
  /// Recall reads W once this way. A blocked loop copies each coupling to both of its
  /// places; through the graph, the transpose costs more than the rest (for N = 1024,
  /// 12–15 ms through the graph against 6–7 ms this way, measured on a busy 2-core
  /// machine). A test checks that both give the same W.
  ///
  /// W is kept with the A it was built from and reused while A's storage is unchanged
  /// (``Tensor/sharesStorage(with:)``): repeated recalls with the same parameters build W
  /// once, and the matrix product keeps W's packed panels across them. Writing A (an
  /// optimizer step, `set`) gives it new storage, and the next read builds W again.
  public var weightValue: Tensor {
    let a = rawWeight.value
    if let kept = keptWeight, kept.source.sharesStorage(with: a) { return kept.weight }
    let w: Tensor
    switch dtype {
    case .float32: w = symmetrized(a, Float.self)
    case .float64: w = symmetrized(a, Double.self)
    }
    keptWeight = (a, w)
    return w
  }

  /// The last W read by ``weightValue`` and the value of A it was built from.
  private var keptWeight: (source: Tensor, weight: Tensor)?

  private func symmetrized<T: TensorScalar>(_ source: Tensor, _: T.Type) -> Tensor {
    let n = unitCount
    var w = Tensor.zeros([n, n], dtype: dtype)
    let block = 32  // a 32 × 32 tile of the rows read and of the columns written fits in cache
    source.withUnsafeBufferPointer(as: T.self) { a in
      w.withUnsafeMutableBufferPointer(as: T.self) { w in
        for i0 in stride(from: 0, to: n, by: block) {
          for j0 in stride(from: i0, to: n, by: block) {
            for i in i0..<min(i0 + block, n) {
              let (start, end) = (max(j0, i + 1), min(j0 + block, n))
              guard start < end else { continue }
              for j in start..<end {
                w[i * n + j] = a[i * n + j]
                w[j * n + i] = a[i * n + j]
              }
            }
          }
        }
      }
    }
    return w
  }

  /// The fields h = x W + b of a batch of states `[n, N]`, one row per state.
  public func field(_ states: Var) -> Var {
    checkStates(states.shape, "field")
    return states.matmul(weight) + bias
  }

  /// One synchronous update of a batch of states: sign(x W + b), with 1 where the field is 0.
  ///
  /// No gradient flows through the sign. Repeating it is
  /// ``recallSynchronously(_:maxSweeps:)``.
  public override func callAsFunction(_ states: Var) -> Var {
    field(states).sign(atZero: 1)
  }

  /// The energy of each state in a batch `[n, N]`: E(x) = −½ x W xᵀ − b·x, a node of shape
  /// `[n]` built from graph ops.
  ///
  /// Backward: ∂E/∂x = −(x W + b) (W is symmetric), ∂E/∂Wᵢⱼ = −½ xᵢ xⱼ, ∂E/∂b = −x.
  public func energy(_ states: Var) -> Var {
    checkStates(states.shape, "energy")
    return -((states.matmul(weight) * 0.5 + bias) * states).sum(along: 1)
  }

  /// Stores `patterns` `[M, N]` (rows of ±1) by the Hebbian rule in closed form:
  /// ```
  /// W = (1/M) Σₛ x⁽ˢ⁾ᵀ x⁽ˢ⁾ − I        b = (1/M) Σₛ x⁽ˢ⁾  (or 0 without `meanBias`)
  /// ```
  /// Only the off-diagonal part of (1/M) XᵀX is kept, which is the same thing for bipolar
  /// patterns. It works best when the patterns are nearly orthogonal; random patterns are
  /// recalled reliably up to about 0.14 N of them.
  ///
  /// - Parameters:
  ///   - patterns: `[M, N]`, one pattern per row.
  ///   - meanBias: Whether b is the mean pattern (the course's choice) or zero.
  public func storeHebbian(_ patterns: Tensor, meanBias: Bool = true) {
    checkStates(patterns.shape, "storeHebbian")
    require(patterns.shape[0] > 0, "HopfieldNetwork.storeHebbian: no patterns")
    noGrad {
      let x = Var.constant(patterns.converted(to: dtype))
      let correlation = x.matmul(x, transposingSelf: true) * (1 / Double(patterns.shape[0]))
      rawWeight.set((correlation * upperTriangle).value)
      bias.set(meanBias ? x.mean(along: 0).value : Tensor.zeros([unitCount], dtype: dtype))
    }
  }

  // MARK: - Learning rules

  /// What the ``Trainer`` minimizes to store patterns (see ``objective(_:)``).
  public enum LearningRule: Sendable {
    /// The patterns' mean energy, (1/M) Σₛ E(x⁽ˢ⁾): the course's Hebbian learning,
    /// dWᵢⱼ/dt = κ xᵢ xⱼ and db/dt = κ x, as gradient descent. The energy is linear in the
    /// parameters, so it has no minimum: train for a fixed number of steps.
    case meanEnergy
    /// The mean hinge loss (1/(M N)) Σₛ Σⱼ max(0, κ − xⱼ⁽ˢ⁾ hⱼ(x⁽ˢ⁾)): zero when every unit
    /// of every pattern agrees with its field by at least κ, which makes every pattern a
    /// fixed point. It is the perceptron rule with a margin (Gardner 1988), applied to the
    /// symmetric couplings, and stores far more than the Hebbian rule.
    case margin(Double)
  }

  /// The mean energy of the patterns `[M, N]`, a scalar node.
  public func meanEnergy(of patterns: Var) -> Var {
    energy(patterns).mean()
  }

  /// The margin loss (1/(M N)) Σₛ Σⱼ max(0, κ − xⱼ⁽ˢ⁾ hⱼ(x⁽ˢ⁾)) of the patterns `[M, N]`.
  ///
  /// Backward, for every unit with xⱼ hⱼ < κ: ∂/∂Wᵢⱼ gets −xᵢ xⱼ/(M N) (from both ends of
  /// the coupling), ∂/∂bⱼ gets −xⱼ/(M N): a Hebbian step on the units that are not yet
  /// stable enough, and nothing on the others.
  public func marginLoss(of patterns: Var, margin: Double) -> Var {
    Self.marginLoss(fields: field(patterns), patterns: patterns, margin: margin)
  }

  private static func marginLoss(fields: Var, patterns: Var, margin: Double) -> Var {
    (margin - fields * patterns).relu().mean()
  }

  /// The objective for a ``Trainer`` that stores its dataset's inputs (rows of ±1) by `rule`.
  ///
  /// ```swift
  /// let trainer = Trainer(
  ///   model: network, optimizer: Adam(learningRate: 0.01),
  ///   objective: network.objective(.margin(1)))
  /// try trainer.fit(Dataset(inputs: patterns, targets: patterns), epochs: 300, batchSize: 30)
  /// ```
  /// The target is not used. The objective's output is the energies `[M]` for
  /// ``LearningRule/meanEnergy`` and the fields `[M, N]` for ``LearningRule/margin(_:)``.
  public func objective(_ rule: LearningRule) -> (_ patterns: Var, _ target: Var) -> Objective {
    { patterns, _ in
      switch rule {
      case .meanEnergy:
        let energies = self.energy(patterns)
        return Objective(loss: energies.mean(), output: energies)
      case .margin(let margin):
        let fields = self.field(patterns)
        return Objective(
          loss: Self.marginLoss(fields: fields, patterns: patterns, margin: margin),
          output: fields)
      }
    }
  }

  // MARK: - Recall

  /// The result of recalling a batch of probes.
  public struct Recall: Sendable {
    /// The final states `[n, N]`, every unit ±1.
    public var states: Tensor
    /// For each probe, the number of sweeps that changed its state.
    public var sweeps: [Int]
    /// For each probe, whether its final state is a fixed point: a whole sweep left it
    /// unchanged before the sweep limit.
    public var isFixedPoint: [Bool]
  }

  /// Recalls a batch of probes by synchronous updates, x ← sign(x W + b) for every unit at
  /// once, until no probe changes or `maxSweeps` sweeps have run.
  ///
  /// The update is a graph built once, `field = state·W + b`, `next = field.sign(atZero: 1)`,
  /// on constants holding W and b, and re-evaluated sweep after sweep. A probe that a sweep
  /// leaves unchanged is a fixed point and stays one, so it leaves the batch: later sweeps
  /// update only the probes still changing (the graph is rebuilt on the smaller state when
  /// the batch shrinks; the rows of a product do not depend on each other, so the states
  /// are the same as updating every probe every sweep). Probes may hold 0 for unknown
  /// units: a 0 contributes nothing to the fields, and after the first sweep every unit is
  /// ±1. Synchronous updates can end in a cycle of two states; such probes are reported as
  /// not settled.
  ///
  /// - Parameters:
  ///   - probes: `[n, N]`, entries −1, 0 or 1.
  ///   - maxSweeps: The largest number of updates (each a sweep over every unit).
  /// - Complexity: O(n · N²) per sweep, n the number of probes not yet settled.
  public func recallSynchronously(_ probes: Tensor, maxSweeps: Int = 100) -> Recall {
    checkStates(probes.shape, "recallSynchronously")
    require(maxSweeps > 0, "HopfieldNetwork.recallSynchronously: maxSweeps \(maxSweeps) < 1")
    let count = probes.shape[0]
    let (w, b) = (Var.constant(weightValue, name: "W"), bias.detached())
    var states = probes.converted(to: dtype)
    // The probes still changing: their indices, and their states as one batch.
    var active = Array(0..<count)
    let state = Var.constant(states, name: "x")
    // Building the graph computes its value, so a graph just built is not evaluated again.
    var next = (state.matmul(w) + b).sign(atZero: 1)
    var isCurrent = true
    var sweeps = [Int](repeating: 0, count: count)
    var isFixedPoint = [Bool](repeating: false, count: count)
    for _ in 0..<maxSweeps {
      if !isCurrent { next.evaluate() }
      isCurrent = false
      let unchanged = equalRows(next.value, state.value)
      var changing: [Int] = []
      for (row, probe) in active.enumerated() {
        if unchanged[row] {
          isFixedPoint[probe] = true
        } else {
          sweeps[probe] += 1
          changing.append(row)
        }
      }
      // Every active probe's state is now its row of `next` (a settled one's is unchanged).
      scatterRows(of: next.value, to: active, in: &states)
      if changing.isEmpty { break }
      if changing.count == active.count {
        state.updateValue { $0.assign(next.value) }
      } else {
        state.set(next.value.gatheringRows(changing))
        next = (state.matmul(w) + b).sign(atZero: 1)
        isCurrent = true
        active = changing.map { active[$0] }
      }
    }
    return Recall(states: states, sweeps: sweeps, isFixedPoint: isFixedPoint)
  }

  /// Recalls each probe by asynchronous updates: a sweep visits the units one at a time in
  /// a fresh random order and sets xⱼ ← sign(hⱼ) (1 when hⱼ = 0) from the current state,
  /// until a sweep changes nothing or `maxSweeps` sweeps have run.
  ///
  /// Each update changes the energy by −(xⱼ′ − xⱼ) hⱼ ≤ 0, so the energy never rises and
  /// the recall always ends at a fixed point given enough sweeps. This is a sequential
  /// algorithm, one unit after another, so it runs as plain loops over the weights (in
  /// `Double`) rather than as a graph.
  ///
  /// - Parameters:
  ///   - probes: `[n, N]`, entries −1, 0 (unknown) or 1.
  ///   - maxSweeps: The largest number of sweeps per probe.
  ///   - generator: Draws the order of the units in each sweep.
  ///   - observe: Called after every visit of a unit with the probe's index and its state.
  /// - Complexity: O(N²) per sweep and probe.
  public func recallAsynchronously(
    _ probes: Tensor, maxSweeps: Int = 100, using generator: inout some RandomNumberGenerator,
    afterEachUpdate observe: ((_ probe: Int, _ state: [Double]) -> Void)? = nil
  ) -> Recall {
    checkStates(probes.shape, "recallAsynchronously")
    require(maxSweeps > 0, "HopfieldNetwork.recallAsynchronously: maxSweeps \(maxSweeps) < 1")
    let n = unitCount
    let count = probes.shape[0]
    let w = weightValue.scalars
    let b = bias.value.scalars
    var states = probes.scalars
    var sweeps = [Int](repeating: 0, count: count)
    var isFixedPoint = [Bool](repeating: false, count: count)
    var order = Array(0..<n)
    for probe in 0..<count {
      var x = Array(states[(probe * n)..<((probe + 1) * n)])
      for _ in 0..<maxSweeps {
        order.shuffle(using: &generator)
        var changed = false
        for j in order {
          // W is symmetric, so the field of unit j is row j of W against x.
          let h = w.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { x in
              var sum = b[j]
              for i in 0..<n { sum += x[i] * w[j * n + i] }
              return sum
            }
          }
          let updated: Double = h >= 0 ? 1 : -1
          if updated != x[j] {
            x[j] = updated
            changed = true
          }
          observe?(probe, x)
        }
        if !changed {
          isFixedPoint[probe] = true
          break
        }
        sweeps[probe] += 1
      }
      states.replaceSubrange((probe * n)..<((probe + 1) * n), with: x)
    }
    return Recall(
      states: Tensor(states, shape: probes.shape, dtype: dtype), sweeps: sweeps,
      isFixedPoint: isFixedPoint)
  }

  /// Whether each state in `states` `[n, N]` is a fixed point of the update:
  /// sign(x W + b) = x, with 1 where the field is 0.
  public func isFixedPoint(_ states: Tensor) -> [Bool] {
    checkStates(states.shape, "isFixedPoint")
    let x = Var.constant(states.converted(to: dtype))
    let next = noGrad { (x.matmul(Var.constant(weightValue)) + bias).sign(atZero: 1) }
    return equalRows(next.value, x.value)
  }

  // MARK: - Noise

  /// The course's noise: each entry is re-drawn from {−1, 1} at random with probability
  /// `probability`, so about half of the re-drawn entries flip.
  public static func redrawingBits(
    of patterns: Tensor, probability: Double, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    require(
      (0...1).contains(probability),
      "HopfieldNetwork.redrawingBits: probability \(probability) is not in [0, 1]")
    var noisy = patterns
    for i in 0..<noisy.count where Double.random(in: 0..<1, using: &generator) < probability {
      noisy[flat: i] = Bool.random(using: &generator) ? 1 : -1
    }
    return noisy
  }

  /// Each row of `patterns` with exactly `count` of its entries, chosen at random, negated.
  public static func flippingBits(
    of patterns: Tensor, count: Int, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    require(
      patterns.rank == 2 && (0...patterns.shape[1]).contains(count),
      "HopfieldNetwork.flippingBits: cannot flip \(count) entries of rows of shape \(patterns.shape)"
    )
    var noisy = patterns
    let width = patterns.shape[1]
    var columns = Array(0..<width)
    for row in 0..<patterns.shape[0] {
      columns.shuffle(using: &generator)
      for j in columns.prefix(count) { noisy[row, j] = -noisy[row, j] }
    }
    return noisy
  }

  public override var summary: String { "HopfieldNetwork(\(unitCount) units)" }

  // MARK: - Helpers

  private func checkStates(_ shape: [Int], _ function: String) {
    require(
      shape.count == 2 && shape[1] == unitCount,
      "HopfieldNetwork.\(function): states of shape \(shape) are not [n, \(unitCount)]")
  }

  /// Writes row r of `rows` to row `indices[r]` of `states` (same dtype and width).
  private func scatterRows(of rows: Tensor, to indices: [Int], in states: inout Tensor) {
    switch dtype {
    case .float32: Self.scatterRows(of: rows, to: indices, in: &states, Float.self)
    case .float64: Self.scatterRows(of: rows, to: indices, in: &states, Double.self)
    }
  }

  private static func scatterRows<T: TensorScalar>(
    of rows: Tensor, to indices: [Int], in states: inout Tensor, _: T.Type
  ) {
    let width = rows.shape[1]
    rows.withUnsafeBufferPointer(as: T.self) { source in
      states.withUnsafeMutableBufferPointer(as: T.self) { target in
        for (row, index) in indices.enumerated() {
          UnsafeMutableRawPointer(target.baseAddress! + index * width).copyMemory(
            from: source.baseAddress! + row * width, byteCount: width * MemoryLayout<T>.stride)
        }
      }
    }
  }

  /// Whether row i of `a` equals row i of `b`, for each row (same shape and dtype).
  private func equalRows(_ a: Tensor, _ b: Tensor) -> [Bool] {
    switch a.dtype {
    case .float32: return Self.equalRows(a, b, Float.self)
    case .float64: return Self.equalRows(a, b, Double.self)
    }
  }

  private static func equalRows<T: TensorScalar>(_ a: Tensor, _ b: Tensor, _: T.Type) -> [Bool] {
    let (rows, columns) = (a.shape[0], a.shape[1])
    return a.withUnsafeBufferPointer(as: T.self) { a in
      b.withUnsafeBufferPointer(as: T.self) { b in
        (0..<rows).map { i in
          let start = i * columns
          for j in start..<(start + columns) where a[j] != b[j] { return false }
          return true
        }
      }
    }
  }
}
