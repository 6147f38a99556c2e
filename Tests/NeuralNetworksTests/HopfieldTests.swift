import Autodiff
import Foundation
import NeuralNetworks
import Testing

/// Random rows of ±1.
private func randomPatterns(
  _ count: Int, _ units: Int, dtype: DType = .float64, using rng: inout SeededGenerator
) -> Tensor {
  Tensor(
    (0..<(count * units)).map { _ in Bool.random(using: &rng) ? 1 : -1 }, shape: [count, units],
    dtype: dtype)
}

/// The squared Euclidean distance.
private func distance(_ a: [Double], _ b: [Double]) -> Double {
  zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
}

/// The fraction of rows of `a` equal to the same row of `b`.
private func fractionOfEqualRows(_ a: Tensor, _ b: Tensor) -> Double {
  let (x, y) = (a.rowScalars, b.rowScalars)
  return Double(zip(x, y).filter { $0 == $1 }.count) / Double(x.count)
}

@Suite("Classical Hopfield network")
struct HopfieldTests {
  @Test func courseOrthogonalPatternsGiveXWEqualsThreeX() {
    let x = Datasets.orthogonalPatterns(dtype: .float64).inputs
    #expect(x.matmul(transposed: x) == Tensor.identity(4, dtype: .float64) * 16)
    let network = HopfieldNetwork(unitCount: 16, dtype: .float64)
    network.storeHebbian(x, meanBias: false)
    let w = network.weight.value
    #expect(w == Tensor(w.rowScalars.transposedRows, dtype: .float64))
    #expect((0..<16).allSatisfy { w[$0, $0] == 0 })
    #expect(network.bias.value == Tensor.zeros([16], dtype: .float64))
    #expect(x.matmul(w) == x * 3)
  }

  @Test func courseNoisyProbesSettleOnTheirPatterns() {
    let x = Datasets.orthogonalPatterns().inputs
    let network = HopfieldNetwork(unitCount: 16)
    network.storeHebbian(x)
    var rng = SeededGenerator(seed: 1)
    let labels = (0..<1000).map { $0 % 4 }
    let targets = x.gatheringRows(labels)
    let probes = HopfieldNetwork.redrawingBits(of: targets, probability: 0.4, using: &rng)
    let synchronous = network.recallSynchronously(probes)
    let asynchronous = network.recallAsynchronously(probes, using: &rng)
    #expect(fractionOfEqualRows(synchronous.states, targets) >= 0.7)
    #expect(fractionOfEqualRows(asynchronous.states, targets) >= 0.7)
    #expect(asynchronous.isFixedPoint.allSatisfy { $0 })
  }

  @Test func energyNeverIncreasesUnderAsynchronousUpdates() {
    var rng = SeededGenerator(seed: 2)
    let n = 20
    let network = HopfieldNetwork(unitCount: n, dtype: .float64)
    network.rawWeight.set(Tensor.normal([n, n], dtype: .float64, using: &rng))
    network.bias.set(Tensor.normal([n], dtype: .float64, using: &rng))
    #expect(network.bias.value.scalars.allSatisfy { $0 != 0 })
    let probes = randomPatterns(10, n, using: &rng)
    let state = Var.constant(Tensor.zeros([1, n], dtype: .float64))
    let energy = network.energy(state)
    var previous = [Double](repeating: .infinity, count: 10)
    var updates = 0
    var increases = 0
    let recall = network.recallAsynchronously(probes, using: &rng) { probe, x in
      state.set(Tensor(x, shape: [1, n], dtype: .float64))
      energy.evaluate()
      let e = energy.value.scalar
      if e > previous[probe] + 1e-9 { increases += 1 }
      previous[probe] = e
      updates += 1
    }
    #expect(updates >= 10 * n * 2)
    #expect(increases == 0)
    #expect(recall.isFixedPoint.allSatisfy { $0 })
    #expect(network.isFixedPoint(recall.states).allSatisfy { $0 })
    #expect(recall.sweeps.contains { $0 > 0 })
  }

  @Test func synchronousUpdatesCanCycle() {
    // Two units coupled positively: from [1, −1] both take the other's sign at once, so the
    // state swaps between [1, −1] and [−1, 1] forever; one at a time, they agree.
    let network = HopfieldNetwork(unitCount: 2, dtype: .float64)
    network.rawWeight.set(Tensor([[0, 1], [0, 0]], dtype: .float64))
    let recall = network.recallSynchronously(
      Tensor([[1, -1], [1, 1]], dtype: .float64), maxSweeps: 7)
    #expect(recall.isFixedPoint == [false, true])
    #expect(recall.sweeps == [7, 0])
    #expect(recall.states.rowScalars == [[-1, 1], [1, 1]])
    var rng = SeededGenerator(seed: 3)
    let asynchronous = network.recallAsynchronously(
      Tensor([[1, -1]], dtype: .float64), using: &rng)
    #expect(asynchronous.isFixedPoint == [true])
  }

  /// Settled probes leave the batch; the recall equals updating every probe every sweep
  /// (probes settling after different numbers of sweeps, some cycling, a few with erased
  /// units), in both dtypes, with W large enough that its packed panels are kept.
  @Test(arguments: [DType.float32, .float64])
  func synchronousRecallEqualsUpdatingEveryProbe(dtype: DType) {
    var rng = SeededGenerator(seed: 21)
    let (units, stored) = (160, 24)
    let patterns = randomPatterns(stored, units, dtype: dtype, using: &rng)
    let network = HopfieldNetwork(unitCount: units, dtype: dtype)
    network.storeHebbian(patterns, meanBias: false)
    var probes = HopfieldNetwork.redrawingBits(of: patterns, probability: 0.6, using: &rng)
    for j in 0..<40 { probes[3, j] = 0 }
    for maxSweeps in [1, 2, 5, 30] {
      let recall = network.recallSynchronously(probes, maxSweeps: maxSweeps)
      // The same dynamics on the whole batch, sweep after sweep.
      let w = Var.constant(network.weightValue)
      var state = probes
      var sweeps = [Int](repeating: 0, count: stored)
      var settled = [Bool](repeating: false, count: stored)
      for _ in 0..<maxSweeps {
        let next = (Var.constant(state).matmul(w) + network.bias.detached()).sign(atZero: 1)
        let (old, new) = (state.rowScalars, next.value.rowScalars)
        for i in 0..<stored where !settled[i] {
          if old[i] == new[i] { settled[i] = true } else { sweeps[i] += 1 }
        }
        state = next.value
        if settled.allSatisfy({ $0 }) { break }
      }
      #expect(recall.states == state, "maxSweeps \(maxSweeps)")
      #expect(recall.sweeps == sweeps, "maxSweeps \(maxSweeps)")
      #expect(recall.isFixedPoint == settled, "maxSweeps \(maxSweeps)")
    }
  }

  /// W is built once while A is unchanged, and again after every way of writing A.
  @Test func weightValueIsKeptUntilTheParametersChange() {
    var rng = SeededGenerator(seed: 22)
    let network = HopfieldNetwork(unitCount: 12, dtype: .float64)
    network.storeHebbian(randomPatterns(3, 12, using: &rng))
    let first = network.weightValue
    #expect(network.weightValue.sharesStorage(with: first))
    #expect(first == network.weight.value)
    let updates: [(String, () -> Void)] = [
      ("updateValue", { network.rawWeight.updateValue { $0[0, 5] += 1 } }),
      ("set", { network.rawWeight.set(Tensor.normal([12, 12], dtype: .float64, using: &rng)) }),
      ("storeHebbian", { network.storeHebbian(randomPatterns(4, 12, using: &rng)) }),
      (
        "mutable buffer",
        {
          network.rawWeight.updateValue { a in
            a.withUnsafeMutableBufferPointer(as: Double.self) { $0[7] = -3 }
          }
        }
      ),
    ]
    for (name, update) in updates {
      let before = network.weightValue
      update()
      let after = network.weightValue
      #expect(!after.sharesStorage(with: before), "\(name)")
      #expect(after == network.weight.value, "\(name)")
    }
  }

  @Test func erasedUnitsAreNeutralAndBecomeBipolar() {
    let x = Datasets.orthogonalPatterns().inputs
    let network = HopfieldNetwork(unitCount: 16)
    network.storeHebbian(x, meanBias: false)
    var probe = x.rows(0..<1)
    for j in 10..<16 { probe[0, j] = 0 }
    let recall = network.recallSynchronously(probe)
    #expect(recall.states == x.rows(0..<1))
    #expect(recall.sweeps == [1])
  }

  @Test func meanEnergyTrainingGivesTheHebbianNetworkUpToAFactor() throws {
    let letters = Datasets.letters(dtype: .float64)
    let hebbian = HopfieldNetwork(unitCount: 36, dtype: .float64)
    hebbian.storeHebbian(letters.inputs)
    let trained = HopfieldNetwork(unitCount: 36, dtype: .float64)
    // A learning rate of 2⁻⁶ keeps every sum exact in binary.
    let trainer = Trainer(
      model: trained, optimizer: SGD(learningRate: 1.0 / 64),
      objective: trained.objective(.meanEnergy))
    trainer.showsProgress = false
    let history = try trainer.fit(letters, epochs: 32, batchSize: 4)
    // The energy is linear in W and b: every step adds 2⁻⁶ × the Hebbian parameters.
    let factor = 32.0 / 64
    #expect(trained.weight.value.scalars == hebbian.weight.value.scalars.map { factor * $0 })
    #expect(trained.bias.value.scalars == hebbian.bias.value.scalars.map { factor * $0 })
    #expect(history.epochs.last!.trainingLoss < history.epochs.first!.trainingLoss)
    var rng = SeededGenerator(seed: 4)
    let probes = HopfieldNetwork.redrawingBits(
      of: letters.inputs.gatheringRows(Array(repeating: [0, 1, 2, 3], count: 10).flatMap { $0 }),
      probability: 0.5, using: &rng)
    #expect(
      trained.recallSynchronously(probes).states == hebbian.recallSynchronously(probes).states)
  }

  @Test func marginRuleStoresWhatHebbianCannot() throws {
    var rng = SeededGenerator(seed: 5)
    let (n, p) = (64, 19)  // load 0.3, twice the Hebbian capacity
    let patterns = randomPatterns(p, n, dtype: .float32, using: &rng)
    let hebbian = HopfieldNetwork(unitCount: n)
    hebbian.storeHebbian(patterns)
    let learned = HopfieldNetwork(unitCount: n)
    let trainer = Trainer(
      model: learned, optimizer: Adam(learningRate: 0.005),
      objective: learned.objective(.margin(1)))
    trainer.showsProgress = false
    try trainer.fit(Dataset(inputs: patterns, targets: patterns), epochs: 200, batchSize: p)
    let hebbianStored = hebbian.isFixedPoint(patterns).filter { $0 }.count
    let learnedStored = learned.isFixedPoint(patterns).filter { $0 }.count
    #expect(Double(hebbianStored) <= 0.5 * Double(p))
    #expect(learnedStored == p)
    let margin = noGrad { learned.field(Var.constant(patterns)) * Var.constant(patterns) }
    #expect(margin.value.scalars.min()! > 0.5)
    let probes = HopfieldNetwork.flippingBits(of: patterns, count: 6, using: &rng)
    let recalled = learned.recallAsynchronously(probes, using: &rng).states
    #expect(fractionOfEqualRows(recalled, patterns) >= 0.9)
  }

  @Test func courseLettersHaveTheCourseGramMatrixAndAreRecovered() {
    let letters = Datasets.letters().inputs
    #expect(letters.shape == [4, 36])
    #expect(
      letters.matmul(transposed: letters).rowScalars == [
        [36, 0, 0, 8], [0, 36, 0, 4], [0, 0, 36, 8], [8, 4, 8, 36],
      ])
    let network = HopfieldNetwork(unitCount: 36)
    network.storeHebbian(letters)
    // 20% of the pixels re-drawn and the bottom two rows erased, over 25 seeded draws.
    var (synchronous, asynchronous) = (0, 0)
    for seed in 0..<25 {
      var rng = SeededGenerator(seed: UInt64(seed))
      var probes = HopfieldNetwork.redrawingBits(of: letters, probability: 0.2, using: &rng)
      for i in 0..<4 { for j in 24..<36 { probes[i, j] = 0 } }
      synchronous +=
        network.recallSynchronously(probes).states.rowScalars.enumerated()
        .filter { $0.element == letters.rowScalars[$0.offset] }.count
      asynchronous +=
        network.recallAsynchronously(probes, using: &rng).states.rowScalars.enumerated()
        .filter { $0.element == letters.rowScalars[$0.offset] }.count
    }
    #expect(synchronous >= 90)
    #expect(asynchronous >= 90)
  }

  @Test func energyAndMarginGradientCheck() {
    var rng = SeededGenerator(seed: 6)
    let network = HopfieldNetwork(unitCount: 5, dtype: .float64)
    network.rawWeight.set(Tensor.normal([5, 5], dtype: .float64, using: &rng))
    network.bias.set(Tensor.normal([5], dtype: .float64, using: &rng))
    let states = Var(Tensor.uniform([3, 5], in: -1...1, dtype: .float64, using: &rng), name: "x")
    let energy = GradientCheck.check(
      network.energy(states), withRespectTo: [states] + network.parameters, name: "energy")
    #expect(energy.passed, "\(energy)")
    let patterns = Var.constant(randomPatterns(3, 5, using: &rng))
    let margin = GradientCheck.check(
      network.marginLoss(of: patterns, margin: 0.3), withRespectTo: network.parameters,
      name: "margin loss")
    #expect(margin.passed, "\(margin)")
    // W is symmetric with a zero diagonal whatever A holds, and recall reads the same W.
    let w = network.weight.value
    #expect(network.weightValue == w)
    let large = HopfieldNetwork(unitCount: 77)
    large.rawWeight.set(Tensor.normal([77, 77], using: &rng))
    #expect(large.weightValue == large.weight.value)
    #expect(w == Tensor(w.rowScalars.transposedRows, dtype: .float64))
    #expect((0..<5).allSatisfy { w[$0, $0] == 0 })
  }

  @Test func saveAndLoadGiveBitIdenticalRecall() throws {
    var rng = SeededGenerator(seed: 7)
    let patterns = randomPatterns(6, 32, dtype: .float32, using: &rng)
    let network = HopfieldNetwork(unitCount: 32)
    let trainer = Trainer(
      model: network, optimizer: Adam(learningRate: 0.01),
      objective: network.objective(.margin(1)))
    trainer.showsProgress = false
    try trainer.fit(Dataset(inputs: patterns, targets: patterns), epochs: 20, batchSize: 6)
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("hopfield-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try network.save(to: url)
    let loaded = HopfieldNetwork(unitCount: 32)
    try loaded.load(from: url)
    #expect(loaded.rawWeight.value == network.rawWeight.value)
    #expect(loaded.bias.value == network.bias.value)
    let probes = HopfieldNetwork.flippingBits(of: patterns, count: 8, using: &rng)
    #expect(
      loaded.recallSynchronously(probes).states == network.recallSynchronously(probes).states)
    var (a, b) = (SeededGenerator(seed: 8), SeededGenerator(seed: 8))
    #expect(
      loaded.recallAsynchronously(probes, using: &a).states
        == network.recallAsynchronously(probes, using: &b).states)
  }
}

@Suite("Modern Hopfield network")
struct ModernHopfieldTests {
  @Test func oneUpdateRetrievesStoredPatternsFromNoisyProbes() {
    var rng = SeededGenerator(seed: 10)
    let patterns = randomPatterns(20, 64, using: &rng)
    let memory = ModernHopfield(storing: patterns, beta: 1)
    var probes = HopfieldNetwork.flippingBits(of: patterns, count: 10, using: &rng)
    for i in 0..<20 { for j in 0..<8 { probes[i, j] = 0 } }
    let retrieved = memory.retrieve(probes)
    let error = zip(retrieved.scalars, patterns.scalars).map { abs($0 - $1) }.max()!
    #expect(error < 1e-3)
    let weights = noGrad { memory.associations(Var.constant(probes)) }.value
    #expect((0..<20).allSatisfy { i in abs(weights.rowScalars[i].reduce(0, +) - 1) < 1e-12 })
    #expect((0..<20).allSatisfy { i in weights[i, i] > 0.999 })
  }

  @Test func updateNeverRaisesTheEnergy() {
    var rng = SeededGenerator(seed: 11)
    let patterns = Tensor.normal([6, 5], dtype: .float64, using: &rng)
    for beta in [0.2, 1, 4] {
      let memory = ModernHopfield(storing: patterns, beta: beta)
      var states = Tensor.normal([8, 5], standardDeviation: 2, dtype: .float64, using: &rng)
      for _ in 0..<4 {
        let before = noGrad { memory.energy(Var.constant(states)) }.value.scalars
        states = memory.retrieve(states)
        let after = noGrad { memory.energy(Var.constant(states)) }.value.scalars
        #expect(zip(before, after).allSatisfy { $1 <= $0 + 1e-12 })
        #expect(after.allSatisfy { $0 >= -1e-12 })
      }
    }
  }

  @Test func updateIsAttentionOverTheStoredPatterns() {
    var rng = SeededGenerator(seed: 12)
    let patterns = Tensor.normal([4, 3], dtype: .float64, using: &rng)
    let memory = ModernHopfield(storing: patterns, beta: 0.7)
    let states = Var.constant(Tensor.normal([2, 3], dtype: .float64, using: &rng))
    let x = Var.constant(patterns)
    let viaAttention = attention(queries: states, keys: x, values: x, scale: 0.7).value
    #expect(memory(states).value == viaAttention)
    // Row by row, the course's form: ξ ← X softmax(β Xᵀ ξ).
    for i in 0..<2 {
      let xi = states.value.rowScalars[i]
      let scores = patterns.rowScalars.map { row in 0.7 * zip(row, xi).map(*).reduce(0, +) }
      let largest = scores.max()!
      let e = scores.map { Foundation.exp($0 - largest) }
      let p = e.map { $0 / e.reduce(0, +) }
      for j in 0..<3 {
        let expected = (0..<4).map { p[$0] * patterns[$0, j] }.reduce(0, +)
        #expect(abs(viaAttention[i, j] - expected) < 1e-12)
      }
    }
  }

  @Test func gradientCheckOfTinyLayers() {
    var rng = SeededGenerator(seed: 13)
    let plain = ModernHopfield(
      storing: Tensor.normal([3, 4], dtype: .float64, using: &rng), beta: 0.8)
    let states = Var(Tensor.normal([2, 4], dtype: .float64, using: &rng), name: "ξ")
    let update = GradientCheck.check(
      plain(states), withRespectTo: [states, plain.patterns], name: "modern Hopfield update")
    #expect(update.passed, "\(update)")
    let energy = GradientCheck.check(
      plain.energy(states), withRespectTo: [states, plain.patterns],
      name: "modern Hopfield energy")
    #expect(energy.passed, "\(energy)")
    let projected = ModernHopfield(
      storing: Tensor.normal([3, 4], dtype: .float64, using: &rng), beta: 0.5, projectionSize: 2,
      using: &rng)
    #expect(projected.parameterCount == 12 + 8 + 8 + 16)
    let attentionForm = GradientCheck.check(
      projected(states), withRespectTo: [states] + projected.parameters,
      name: "modern Hopfield with projections")
    #expect(attentionForm.passed, "\(attentionForm)")
  }

  @Test func trainerLearnsAMemoryFromNoisyExamples() throws {
    var rng = SeededGenerator(seed: 14)
    let prototypes = randomPatterns(4, 16, dtype: .float32, using: &rng)
    func noisyExamples(_ count: Int) -> Dataset {
      let labels = (0..<count).map { $0 % 4 }
      let clean = prototypes.gatheringRows(labels)
      return Dataset(
        inputs: HopfieldNetwork.flippingBits(of: clean, count: 3, using: &rng), targets: clean)
    }
    let memory = ModernHopfield(patternCount: 4, dimension: 16, beta: 1, using: &rng)
    let trainer = Trainer(
      model: memory, optimizer: Adam(learningRate: 0.05),
      loss: { meanSquaredError(predicted: $0, target: $1) }, seed: 14)
    trainer.showsProgress = false
    let history = try trainer.fit(noisyExamples(64), epochs: 100, batchSize: 16)
    #expect(history.epochs.last!.trainingLoss < 0.01 * history.epochs.first!.trainingLoss)
    // The memory now holds the four prototypes, in some order.
    let rows = memory.patterns.value.rowScalars
    for prototype in prototypes.rowScalars {
      let distances = rows.map { row in zip(row, prototype).map { abs($0 - $1) }.max()! }
      #expect(distances.min()! < 0.2)
    }
    // Fresh noisy examples are mapped to their prototype.
    let test = noisyExamples(40)
    let retrieved = memory.retrieve(test.inputs).rowScalars
    let nearest = retrieved.map { row in
      prototypes.rowScalars.indices.min { a, b in
        distance(row, prototypes.rowScalars[a]) < distance(row, prototypes.rowScalars[b])
      }!
    }
    let correct = zip(nearest, 0..<40).filter { $0 == $1 % 4 }.count
    #expect(correct >= 36)
  }

  @Test func saveAndLoadGiveIdenticalRetrieval() throws {
    var rng = SeededGenerator(seed: 15)
    let memory = ModernHopfield(
      storing: Tensor.normal([5, 6], dtype: .float32, using: &rng), beta: 2, projectionSize: 3,
      using: &rng)
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("modern-hopfield-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try memory.save(to: url)
    let loaded = ModernHopfield(
      storing: Tensor.zeros([5, 6], dtype: .float32), beta: 2, projectionSize: 3, using: &rng)
    try loaded.load(from: url)
    #expect(loaded.parameters.map(\.value) == memory.parameters.map(\.value))
    let probes = Tensor.normal([4, 6], dtype: .float32, using: &rng)
    #expect(loaded.retrieve(probes, updates: 3) == memory.retrieve(probes, updates: 3))
  }
}

extension Tensor {
  /// self · otherᵀ, computed by the engine.
  fileprivate func matmul(transposed other: Tensor) -> Tensor {
    noGrad { Var.constant(self).matmul(Var.constant(other), transposingOther: true) }.value
  }

  fileprivate func matmul(_ other: Tensor) -> Tensor {
    noGrad { Var.constant(self).matmul(Var.constant(other)) }.value
  }

  fileprivate static func * (tensor: Tensor, factor: Double) -> Tensor {
    Tensor(tensor.scalars.map { $0 * factor }, shape: tensor.shape, dtype: tensor.dtype)
  }

  fileprivate static func identity(_ n: Int, dtype: DType) -> Tensor {
    Tensor((0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0 } }, dtype: dtype)
  }
}

extension Array where Element == [Double] {
  fileprivate var transposedRows: [[Double]] {
    (0..<(first?.count ?? 0)).map { j in map { $0[j] } }
  }
}
