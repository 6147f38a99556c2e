import Autodiff
import Foundation
import NeuralNetworks

/// The course's Hopfield demonstrations (four orthogonal 16-bit patterns, the letters A, B,
/// C, E), storage learned by the Trainer, and the capacity of the Hebbian and margin rules.
enum HopfieldExample: Example {
  static let name = "hopfield"
  static let summary =
    "classical Hopfield network: the course's 16-bit patterns and letters, learned storage, capacity"

  static let options: [Option] = [
    .seed,
    .int("probes", "noisy probes per load (default 1000)"),
    .int("trials", "networks per load (default 20; 5 with --quick)"),
    .plot,
  ]

  static func run(arguments: Arguments) throws {
    let quick = arguments.flag("quick")
    let seed = try arguments.seed(default: 1)
    let probeCount = try arguments.int("probes", default: 1000)
    let trials = try arguments.int("trials", default: quick ? 5 : 20)
    let loads = quick ? [0.10, 0.20, 0.30] : [0.05, 0.10, 0.15, 0.20, 0.25, 0.30]
    guard probeCount > 0, trials > 0 else {
      throw UsageError("--probes and --trials must be positive")
    }
    let plots = arguments.string("plot").map { URL(fileURLWithPath: $0, isDirectory: true) }
    var failures: [String] = []
    failures += orthogonalPatterns(probeCount: probeCount, seed: seed)
    failures += try learnedStorage(probeCount: probeCount, seed: seed)
    failures += try capacity(loads: loads, trials: trials, seed: seed, plots: plots)
    failures += try letters(probeCount: probeCount, seed: seed, plots: plots)
    if let plots { print("figures written to \(plots.path)") }
    guard failures.isEmpty else { throw ExampleFailure(failures.joined(separator: "; ")) }
  }

  // MARK: - The course's 16-bit patterns

  static func orthogonalPatterns(probeCount: Int, seed: UInt64) -> [String] {
    var failures: [String] = []
    let x = Datasets.orthogonalPatterns().inputs
    print("== The course's four mutually orthogonal 16-bit patterns\n")
    for row in x.rowScalars { print("  " + bits(row)) }
    let network = HopfieldNetwork(unitCount: 16)
    network.storeHebbian(x, meanBias: false)
    let xw = noGrad { Var.constant(x).matmul(network.weight) }.value
    let isThreeX = zip(xw.scalars, x.scalars).allSatisfy { $0 == 3 * $1 }
    print("\nHebbian storage without bias, W = XᵀX/4 − I. X·W =")
    for row in xw.rowScalars {
      print("  " + row.map { String(format: "%+.0f", $0) }.joined(separator: " "))
    }
    print("X·W = 3X: \(isThreeX ? "yes" : "no")")
    if !isThreeX { failures.append("X·W ≠ 3X") }

    // The course's recall demo, with b = the mean pattern (so the bias is not zero).
    network.storeHebbian(x)
    var rng = SeededGenerator(seed: seed)
    let labels = (0..<probeCount).map { $0 % 4 }
    let targets = x.gatheringRows(labels)
    let probes = HopfieldNetwork.redrawingBits(of: targets, probability: 0.4, using: &rng)
    let synchronous = network.recallSynchronously(probes)
    let state = Var.constant(Tensor.zeros([1, 16], dtype: .float32))
    let energy = network.energy(state)
    // The energy after every asynchronous update, compared with the one before it.
    let initial = noGrad { network.energy(Var.constant(probes)) }.value.scalars
    var (previous, current, updates, rises) = (0.0, -1, 0, 0)
    let asynchronous = network.recallAsynchronously(probes, using: &rng) { probe, units in
      state.set(Tensor(units, shape: [1, 16]))
      energy.evaluate()
      let e = energy.value.scalar
      if e > (probe == current ? previous : initial[probe]) + 1e-6 { rises += 1 }
      (previous, current, updates) = (e, probe, updates + 1)
    }
    let rates = (
      fractionRecalled(synchronous.states, targets), fractionRecalled(asynchronous.states, targets)
    )
    // As in the course, one probe with a few errors and where it settles.
    let example =
      (0..<probeCount).first { i in
        (2...4).contains(hamming(probes.rowScalars[i], targets.rowScalars[i]))
          && asynchronous.states.rowScalars[i] == targets.rowScalars[i]
      } ?? 0
    let (probe, target) = (probes.rowScalars[example], targets.rowScalars[example])
    print(
      """

      With b = the mean pattern: \(probeCount) probes, each bit re-drawn at random with
      probability 0.4 (about 20% flipped). For instance probe \(example), pattern \
      \(labels[example]) with \(hamming(probe, target)) errors,
      overlaps \(x.rowScalars.map { row in Int(zip(row, probe).map(*).reduce(0, +)) }) with the four patterns:
        \(bits(probe))  →  \(bits(asynchronous.states.rowScalars[example]))  (asynchronous)
      settled on their pattern: synchronous \(format(rates.0)), asynchronous \(format(rates.1))
      synchronous updates ended in a cycle of two states for \
      \(synchronous.isFixedPoint.filter { !$0 }.count) probes; asynchronous
      updates reached a fixed point for \(asynchronous.isFixedPoint.filter { $0 }.count) of \
      \(probeCount)
      energy E = −½ xWxᵀ − b·x over \(updates) asynchronous updates: rose \(rises) times

      """)
    if rates.0 < 0.7 || rates.1 < 0.7 {
      failures.append("fewer than 70% of the 16-bit probes settled on their pattern")
    }
    if rises > 0 { failures.append("the energy rose under asynchronous updates") }
    return failures
  }

  // MARK: - Storage learned by gradient descent

  static func learnedStorage(probeCount: Int, seed: UInt64) throws -> [String] {
    print("== Storage learned by the Trainer: gradient descent on the mean energy\n")
    let letters = Datasets.letters()
    let hebbian = HopfieldNetwork(unitCount: 36)
    hebbian.storeHebbian(letters.inputs)
    let trained = HopfieldNetwork(unitCount: 36)
    let (learningRate, steps) = (1.0 / 64, 32)
    let trainer = Trainer(
      model: trained, optimizer: SGD(learningRate: learningRate),
      objective: trained.objective(.meanEnergy))
    trainer.showsProgress = false
    let history = try trainer.fit(letters, epochs: steps, batchSize: 4)
    let factor = learningRate * Double(steps)
    func deviation(_ a: Var, _ b: Var) -> Double {
      zip(a.value.scalars, b.value.scalars).map { abs($0 - factor * $1) }.max()!
    }
    let weightDeviation = deviation(trained.weight, hebbian.weight)
    let biasDeviation = deviation(trained.bias, hebbian.bias)
    var rng = SeededGenerator(seed: seed)
    let probes = HopfieldNetwork.redrawingBits(
      of: letters.inputs.gatheringRows((0..<probeCount).map { $0 % 4 }), probability: 0.5,
      using: &rng)
    let sameRecall =
      trained.recallSynchronously(probes).states == hebbian.recallSynchronously(probes).states
    print(
      """
      The letters stored by SGD (learning rate 2⁻⁶, \(steps) full-batch steps from W = 0,
      b = 0); the mean energy fell from \(format(history.epochs.first!.trainingLoss)) to \
      \(format(history.epochs.last!.trainingLoss)) and keeps falling: it is linear in W and b.
        W = \(format(factor)) × the Hebbian W (largest deviation \(weightDeviation))
        b = \(format(factor)) × the mean pattern (largest deviation \(biasDeviation))
        synchronous recall of \(probeCount) noisy probes identical to the Hebbian network's: \
      \(sameRecall ? "yes" : "no")

      """)
    guard weightDeviation < 1e-6, biasDeviation < 1e-6, sameRecall else {
      return ["the trained network is not the Hebbian one up to a factor"]
    }
    return []
  }

  // MARK: - Capacity

  /// One load of the capacity experiment.
  struct CapacityRow {
    var load: Double
    var patternCount: Int
    /// The fraction of stored patterns that are fixed points, Hebbian then learned.
    var hebbianFixedPoints: Double
    var learnedFixedPoints: Double
    /// The fraction of probes (patterns with some bits flipped) recalled exactly by
    /// asynchronous updates.
    var hebbianRecalled: Double
    var learnedRecalled: Double
  }

  /// Stores P = load · N random patterns in N units by the Hebbian rule and by the margin
  /// rule (κ = 1, Adam 0.005, 300 full-batch steps), and measures, averaged over seeded
  /// trials, the fraction of patterns that are fixed points and the fraction recalled from
  /// probes with `flippedFraction` · N bits flipped.
  static func capacityTable(
    unitCount n: Int, loads: [Double], trials: Int, flippedFraction: Double, seed: UInt64
  ) throws -> [CapacityRow] {
    try loads.enumerated().map { index, load in
      let p = Int((load * Double(n)).rounded())
      var sums = (0.0, 0.0, 0.0, 0.0)
      for trial in 0..<trials {
        var rng = SeededGenerator(seed: seed &+ UInt64(1000 * index + trial))
        let patterns = Tensor(
          (0..<(p * n)).map { _ in Bool.random(using: &rng) ? 1.0 : -1 }, shape: [p, n],
          dtype: .float32)
        let hebbian = HopfieldNetwork(unitCount: n)
        hebbian.storeHebbian(patterns)
        let learned = HopfieldNetwork(unitCount: n)
        let trainer = Trainer(
          model: learned, optimizer: Adam(learningRate: 0.005),
          objective: learned.objective(.margin(1)))
        trainer.showsProgress = false
        try trainer.fit(Dataset(inputs: patterns, targets: patterns), epochs: 300, batchSize: p)
        let flips = Int((flippedFraction * Double(n)).rounded())
        let probes = HopfieldNetwork.flippingBits(of: patterns, count: flips, using: &rng)
        func fixed(_ network: HopfieldNetwork) -> Double {
          Double(network.isFixedPoint(patterns).filter { $0 }.count) / Double(p)
        }
        func recalled(_ network: HopfieldNetwork) -> Double {
          fractionRecalled(network.recallAsynchronously(probes, using: &rng).states, patterns)
        }
        sums.0 += fixed(hebbian)
        sums.1 += fixed(learned)
        sums.2 += recalled(hebbian)
        sums.3 += recalled(learned)
      }
      let t = Double(trials)
      return CapacityRow(
        load: load, patternCount: p, hebbianFixedPoints: sums.0 / t,
        learnedFixedPoints: sums.1 / t, hebbianRecalled: sums.2 / t, learnedRecalled: sums.3 / t)
    }
  }

  static func capacity(loads: [Double], trials: Int, seed: UInt64, plots: URL?) throws -> [String] {
    let n = 100
    print(
      """
      == Capacity: N = \(n) units, random patterns, \(trials) seeded trials per load

      fixed: the fraction of stored patterns that are fixed points of the update
      recalled: the fraction recalled exactly (asynchronous updates) from 10 flipped bits
      learned: the margin rule, mean max(0, 1 − xⱼhⱼ) minimized by the Trainer (Adam 0.005,
      300 steps)

        load    P   Hebbian fixed  recalled   learned fixed  recalled
      """)
    let table = try capacityTable(
      unitCount: n, loads: loads, trials: trials, flippedFraction: 0.1, seed: seed)
    for row in table {
      print(
        String(
          format: "  %.2f  %3d        %.3f     %.3f           %.3f     %.3f", row.load,
          row.patternCount, row.hebbianFixedPoints, row.hebbianRecalled, row.learnedFixedPoints,
          row.learnedRecalled))
    }
    if let plots {
      try LineChart(
        title: "Capacity of \(n) units", xAxis: Axis("load P/N"),
        yAxis: Axis("fraction of patterns", range: 0...1),
        series: [
          .init("Hebbian: fixed", x: loads, y: table.map(\.hebbianFixedPoints), showsMarkers: true),
          .init("Hebbian: recalled", x: loads, y: table.map(\.hebbianRecalled), showsMarkers: true),
          .init(
            "margin rule: fixed", x: loads, y: table.map(\.learnedFixedPoints), showsMarkers: true),
          .init(
            "margin rule: recalled", x: loads, y: table.map(\.learnedRecalled), showsMarkers: true),
        ]
      ).write(to: plots.appendingPathComponent("hopfield-capacity.svg"))
    }
    var failures: [String] = []
    func check(_ load: Double, _ claim: String, _ holds: (CapacityRow) -> Bool) {
      guard let row = table.first(where: { abs($0.load - load) < 1e-9 }) else { return }
      let ok = holds(row)
      print("  \(ok ? "✓" : "✗") \(claim)")
      if !ok { failures.append(claim) }
    }
    print()
    check(0.10, "Hebbian: at least 90% fixed points at load 0.10") {
      $0.hebbianFixedPoints >= 0.9
    }
    check(0.20, "Hebbian: at most 50% fixed points at load 0.20 (capacity ≈ 0.14 N)") {
      $0.hebbianFixedPoints <= 0.5
    }
    check(0.30, "learned rule: at least 95% fixed points at load 0.30") {
      $0.learnedFixedPoints >= 0.95
    }
    print()
    return failures
  }

  // MARK: - The course's letters

  static func letters(probeCount: Int, seed: UInt64, plots: URL?) throws -> [String] {
    var failures: [String] = []
    let x = Datasets.letters().inputs
    print("== The course's letters A, B, C, E (6 × 6 pixels)\n")
    printSideBySide(x.rowScalars.map(picture))
    let gram = noGrad { Var.constant(x).matmul(Var.constant(x), transposingOther: true) }.value
    let course: [[Double]] = [[36, 0, 0, 8], [0, 36, 0, 4], [0, 0, 36, 8], [8, 4, 8, 36]]
    print("\nGram matrix X Xᵀ:\n  these letters    the course's")
    for (ours, theirs) in zip(gram.rowScalars, course) {
      print("  \(integers(ours))    \(integers(theirs))")
    }
    let sameGram = gram.rowScalars == course
    print("equal: \(sameGram ? "yes" : "no")")
    if !sameGram { failures.append("the letters' Gram matrix differs from the course's") }

    let network = HopfieldNetwork(unitCount: 36)
    network.storeHebbian(x)
    func corrupted(_ patterns: Tensor, using rng: inout SeededGenerator) -> Tensor {
      var probes = HopfieldNetwork.redrawingBits(of: patterns, probability: 0.2, using: &rng)
      for i in 0..<patterns.shape[0] { for j in 24..<36 { probes[i, j] = 0 } }
      return probes
    }
    var rng = SeededGenerator(seed: seed)
    let probes = corrupted(x, using: &rng)
    let synchronous = network.recallSynchronously(probes)
    let asynchronous = network.recallAsynchronously(probes, using: &rng)
    print(
      """

      Hebbian storage (b = the mean pattern). Probes: each pixel re-drawn at random with
      probability 0.2, then the bottom two rows erased (0, shown as ?):

      """)
    for i in 0..<4 {
      printSideBySide(
        [x, probes, synchronous.states, asynchronous.states].map { picture($0.rowScalars[i]) },
        titles: ["letter", "probe", "synchronous", "asynchronous"])
      print()
    }
    if let plots {
      let columns = [x, probes, synchronous.states, asynchronous.states]
      try PixelGrid(
        title: "Letters: stored, probe (grey unknown), recalled synchronously, asynchronously",
        images: (0..<4).flatMap { i in
          zip(columns, ["letter", "probe", "synchronous", "asynchronous"]).map {
            PixelGrid.Image(pixels: $0.rowScalars[i], width: 6, height: 6, caption: $1)
          }
        }, columns: 4, range: -1...1, pixelSize: 12
      ).write(to: plots.appendingPathComponent("hopfield-letters.svg"))
    }
    // The same on many seeded probes, so that the result does not rest on one draw.
    let many = corrupted(x.gatheringRows((0..<probeCount).map { $0 % 4 }), using: &rng)
    let targets = x.gatheringRows((0..<probeCount).map { $0 % 4 })
    print(
      "over \(probeCount) such probes: synchronous \(format(fractionRecalled(network.recallSynchronously(many).states, targets))), asynchronous \(format(fractionRecalled(network.recallAsynchronously(many, using: &rng).states, targets)))"
    )
    let recalled = (
      zip(synchronous.states.rowScalars, x.rowScalars).filter { $0 == $1 }.count,
      zip(asynchronous.states.rowScalars, x.rowScalars).filter { $0 == $1 }.count
    )
    print(
      "letters recalled: \(recalled.0) of 4 synchronous, \(recalled.1) of 4 asynchronous")
    if recalled != (4, 4) { failures.append("not every letter was recalled") }
    return failures
  }

  // MARK: - Printing

  static func bits(_ row: [Double]) -> String {
    row.map { $0 > 0 ? "+" : ($0 < 0 ? "−" : "?") }.joined()
  }

  /// A 6 × 6 bitmap: # for 1, . for −1, ? for 0.
  static func picture(_ row: [Double]) -> [String] {
    (0..<6).map { r in
      (0..<6).map { c in
        let v = row[r * 6 + c]
        return v > 0 ? "#" : (v < 0 ? "." : "?")
      }.joined()
    }
  }

  static func printSideBySide(_ pictures: [[String]], titles: [String]? = nil) {
    let width = 14
    func pad(_ s: String) -> String { s.padding(toLength: width, withPad: " ", startingAt: 0) }
    if let titles { print("  " + titles.dropLast().map(pad).joined() + titles.last!) }
    for r in 0..<pictures[0].count {
      print("  " + pictures.dropLast().map { pad($0[r]) }.joined() + pictures.last![r])
    }
  }

  static func integers(_ row: [Double]) -> String {
    "[" + row.map { String(format: "%2.0f", $0) }.joined(separator: " ") + "]"
  }

  static func hamming(_ a: [Double], _ b: [Double]) -> Int {
    zip(a, b).filter { $0 != $1 }.count
  }

  static func fractionRecalled(_ states: Tensor, _ patterns: Tensor) -> Double {
    Double(zip(states.rowScalars, patterns.rowScalars).filter { $0 == $1 }.count)
      / Double(patterns.shape[0])
  }

  static func format(_ x: Double) -> String { String(format: "%.3g", x) }
}
