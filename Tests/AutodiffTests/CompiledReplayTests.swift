import Foundation
import Testing

@testable import Autodiff

/// A seeded random graph of scalar nodes (rank 0), with a few tensor nodes mixed in, in the
/// style of a micrograd MLP: the graphs the compiled replay runs from its arena.
private struct ScalarGraph {
  let leaves: [Var]
  let loss: Var
  let middle: [Var]

  init(seed: UInt64, dtype: DType = .float64, nodes: Int = 60) {
    var rng = SeededGenerator(seed: seed)
    let leaves = (0..<4).map { i in
      Var(Double.random(in: -1.5...1.5, using: &rng), dtype: dtype, name: "x\(i)")
    }
    var pool = leaves + [Var.constant(Tensor(scalar: 0.5, dtype: dtype))]
    // A vector leaf whose sum joins the scalars: an op node the scalar steps read.
    let vector = Var(Tensor.normal([3], dtype: dtype, using: &rng), name: "v")
    pool.append((vector * vector).sum())
    for _ in 0..<nodes {
      let a = pool[pool.count - 1 - Int.random(in: 0..<min(4, pool.count), using: &rng)]
      let b = pool.randomElement(using: &rng)!
      let next: Var
      switch Int.random(in: 0..<14, using: &rng) {
      case 0: next = a + b
      case 1: next = a - b
      case 2: next = a * b
      case 3: next = -a
      case 4: next = a.relu()
      case 5: next = a.tanh()
      case 6: next = a.sigmoid()
      case 7: next = (a * 0.3).exp()
      case 8: next = (a * a + 1).log()
      case 9: next = a / (b * b + 1)
      case 10: next = a.leakyRelu(alpha: 0.1)
      case 11: next = (a * a + 0.25).pow(0.5)
      case 12: next = a * a  // a repeated argument
      default: next = a.sin() + b.cos()
      }
      pool.append(next)
    }
    var total = pool[pool.count - 1]
    for node in pool.suffix(8) { total = total + node * 0.1 }
    self.leaves = leaves + [vector]
    self.loss = total * total
    self.middle = Array(pool.dropFirst(6))
  }

  /// Moves every leaf by a seeded step.
  func perturb(_ step: Int) {
    var rng = SeededGenerator(seed: UInt64(step) &+ 99)
    for leaf in leaves {
      leaf.updateValue { value in
        for i in 0..<value.count { value[flat: i] += Double.random(in: -0.3...0.3, using: &rng) }
      }
    }
  }
}

@Suite("Compiled replay")
struct CompiledReplayTests {
  /// Runs `steps` training-like steps on a fresh graph of `seed`, returning every loss, every
  /// leaf gradient and the values of the middle nodes.
  private func trace(seed: UInt64, compiled: Bool, dtype: DType = .float64, steps: Int = 4)
    -> [[Double]]
  {
    CompiledReplay.withEnabled(compiled) {
      let graph = ScalarGraph(seed: seed, dtype: dtype)
      var out: [[Double]] = []
      for step in 0..<steps {
        graph.loss.evaluate()
        for leaf in graph.leaves { leaf.grad = nil }
        graph.loss.backward()
        out.append([graph.loss.value.scalar])
        out.append(graph.leaves.flatMap { $0.grad?.scalars ?? [] })
        out.append(graph.middle.map { $0.value.scalar })
        graph.perturb(step)
      }
      // The replay really ran: a plan with the output in its arena.
      #expect((graph.loss.replayPlan != nil) == compiled)
      #expect((graph.loss.scalarSlot != nil) == compiled)
      return out
    }
  }

  @Test(arguments: 0..<40)
  func randomScalarGraphsReplayExactlyAsNodeByNode(seed: Int) {
    let expected = trace(seed: UInt64(seed), compiled: false)
    let replayed = trace(seed: UInt64(seed), compiled: true)
    #expect(replayed.count == expected.count)
    for (r, e) in zip(replayed, expected) {
      // The same functions in the same order: equal bit for bit (NaN equal to NaN).
      #expect(r.count == e.count)
      for (x, y) in zip(r, e) { #expect(x == y || (x.isNaN && y.isNaN), "seed \(seed)") }
    }
  }

  @Test(arguments: 0..<10)
  func floatGraphsReplayAsNodeByNode(seed: Int) {
    let expected = trace(seed: UInt64(seed), compiled: false, dtype: .float32)
    let replayed = trace(seed: UInt64(seed), compiled: true, dtype: .float32)
    for (r, e) in zip(replayed, expected) {
      for (x, y) in zip(r, e) { #expect(x == y || (x.isNaN && y.isNaN), "seed \(seed)") }
    }
  }

  @Test(arguments: 0..<30)
  func randomGraphsOfEveryOpReplayAsNodeByNode(seed: Int) {
    // The registry's random graphs: tensor ops of every kind, some of one number.
    func run(_ compiled: Bool) -> [[Double]] {
      CompiledReplay.withEnabled(compiled) {
        let graph = RandomGraph(seed: UInt64(seed))
        var out: [[Double]] = []
        for step in 0..<3 {
          graph.loss.evaluate()
          for leaf in graph.leaves { leaf.grad = nil }
          graph.loss.backward()
          out.append([graph.loss.value.scalar])
          out.append(graph.leaves.flatMap { $0.grad?.scalars ?? [] })
          var rng = SeededGenerator(seed: UInt64(step))
          for leaf in graph.leaves {
            leaf.updateValue { v in
              for i in 0..<v.count { v[flat: i] += Double.random(in: -0.1...0.1, using: &rng) }
            }
          }
        }
        return out
      }
    }
    let (expected, replayed) = (run(false), run(true))
    for (r, e) in zip(replayed, expected) {
      for (x, y) in zip(r, e) { #expect(x == y || (x.isNaN && y.isNaN), "seed \(seed)") }
    }
  }

  @Test func scalarNodesMoveIntoAnArenaOnTheThirdCall() {
    CompiledReplay.withEnabled(true) {
      let x = Var(2.0, dtype: .float64)
      let y = (x * x + x).tanh()
      y.evaluate()
      y.backward()
      #expect(y.replayPlan == nil)
      x.grad = nil
      y.backward()
      #expect(y.replayPlan != nil)
      #expect(y.scalarSlot != nil)
      #expect(y.creator!.args[0].scalarSlot != nil)
      // Values and gradients still read as tensors.
      #expect(y.value.scalar == Foundation.tanh(6.0))
      let d = 1 - Foundation.tanh(6.0) * Foundation.tanh(6.0)
      #expect(abs(x.grad!.scalar - d * 5) < 1e-12)
      #expect(abs(y.creator!.args[0].grad!.scalar - d) < 1e-12)
    }
  }

  @Test func aCopyOfAValueKeepsItsNumberAcrossReplays() {
    CompiledReplay.withEnabled(true) {
      let x = Var(1.0, dtype: .float64)
      let y = x * 3
      for _ in 0..<3 { y.evaluate() }
      #expect(y.scalarSlot != nil)
      let before = y.value
      x.set(Tensor(scalar: 5, dtype: .float64))
      y.evaluate()
      #expect(before.scalar == 3)
      #expect(y.value.scalar == 15)
    }
  }

  @Test func aLeafChangingShapeDropsThePlan() {
    CompiledReplay.withEnabled(true) {
      let x = Var(2.0, dtype: .float64)
      let y = (x * x).sum()
      y.evaluate()
      y.evaluate()
      y.backward()
      let plan = y.replayPlan
      #expect(plan != nil)
      x.set(Tensor([1, 2, 3], dtype: .float64))
      y.evaluate()
      #expect(y.replayPlan !== plan)
      #expect(y.value.scalar == 14)
      x.grad = nil
      y.backward()
      #expect(x.grad!.scalars == [2, 4, 6])
      // And back to one number.
      x.set(Tensor(scalar: 3, dtype: .float64))
      for _ in 0..<3 { y.evaluate() }
      #expect(y.value.scalar == 9)
    }
  }

  @Test func writingANodeOutsideThePlanMovesItOutOfItsArena() {
    CompiledReplay.withEnabled(true) {
      let x = Var(2.0, dtype: .float64)
      let middle = x * x
      let y = middle + 1
      for _ in 0..<3 { y.evaluate() }
      #expect(middle.scalarSlot != nil)
      let plan = y.replayPlan
      // The node-by-node sweep of a sub-graph writes `middle` as a tensor again.
      x.set(Tensor(scalar: 3, dtype: .float64))
      CompiledReplay.withEnabled(false) { middle.evaluate() }
      #expect(middle.scalarSlot == nil)
      #expect(middle.value.scalar == 9)
      y.evaluate()
      #expect(y.value.scalar == 10)
      #expect(y.replayPlan !== plan)
    }
  }

  @Test func twoOutputsSharingScalarNodesEachStayCorrect() {
    CompiledReplay.withEnabled(true) {
      let x = Var(1.0, dtype: .float64)
      let shared = (x * 2).tanh()
      let a = shared * shared
      let b = shared + x
      for step in 1...5 {
        x.set(Tensor(scalar: Double(step) / 10, dtype: .float64))
        a.evaluate()
        b.evaluate()
        x.grad = nil
        a.backward()
        let t = Foundation.tanh(Double(step) / 5)
        #expect(abs(a.value.scalar - t * t) < 1e-12)
        #expect(abs(b.value.scalar - (t + Double(step) / 10)) < 1e-12)
        #expect(abs(x.grad!.scalar - 2 * t * (1 - t * t) * 2) < 1e-12)
        x.grad = nil
        b.backward()
        #expect(abs(x.grad!.scalar - ((1 - t * t) * 2 + 1)) < 1e-12)
      }
    }
  }

  @Test func aNodeTheGradientDoesNotReachHasNoGradient() {
    CompiledReplay.withEnabled(true) {
      let x = Var(1.0, dtype: .float64)
      let unused = x * 5  // an argument of the output that is multiplied by zero's branch
      let y = x.relu() + unused * 0
      for _ in 0..<3 {
        y.evaluate()
        x.grad = nil
        y.backward()
      }
      #expect(x.grad!.scalar == 1)
      let negative = Var(-1.0, dtype: .float64)
      let z = negative.relu().exp() + 0
      for _ in 0..<3 { z.backward() }
      // relu's gradient stops; the nodes below it were reached, with a zero gradient.
      #expect(negative.grad!.scalar == 0)
    }
  }

  @Test func randomNodesDrawFreshValuesInTheReplay() {
    CompiledReplay.withEnabled(true) {
      var rng = SeededGenerator(seed: 4)
      let x = Var(Tensor.normal([50], dtype: .float64, using: &rng))
      let y = x.dropout(rate: 0.5, source: RandomSource(seed: 7), isActive: { true }).sum() * 1
      var seen: Set<Double> = []
      for _ in 0..<4 {
        y.evaluate()
        seen.insert(y.value.scalar)
      }
      #expect(y.replayPlan != nil)
      #expect(seen.count == 4)
    }
  }

  @Test func everyCallRunsEachOpOnceAcrossThePlansMaking() {
    CompiledReplay.withEnabled(true) {
      let x = Var(1.0, dtype: .float64)
      let runs = RunCounter()
      let counted = countedCopy(of: x, runs)
      let y = (counted * counted + counted).tanh()
      runs.count = 0
      for step in 1...6 {
        x.set(Tensor(scalar: Double(step), dtype: .float64))
        if step % 2 == 1 { y.evaluate() } else { y.backward() }
        #expect(runs.count == step, "step \(step)")
      }
      #expect(y.replayPlan != nil)
      // A backward after an evaluate at the same leaves runs nothing again.
      y.backward()
      #expect(runs.count == 6)
    }
  }

  @Test func theOpThatMadeANaNIsStillNamed() {
    CompiledReplay.withEnabled(true) {
      let x = Var(3.0, dtype: .float64)
      let y = ((x - 2).log() * 3).exp()
      for _ in 0..<3 { y.evaluate() }
      #expect(y.replayPlan != nil)
      #expect(y.firstNonFiniteNode() == nil)
      x.set(Tensor(scalar: 1, dtype: .float64))
      y.evaluate()
      #expect(y.firstNonFiniteNode()?.creator?.name == "log")
    }
  }

  @Test func aReplayedGraphIsFreedWhenTheLastReferenceGoes() {
    CompiledReplay.withEnabled(true) {
      weak var weakLoss: Var?
      weak var weakMiddle: Var?
      let x = Var(0.5, dtype: .float64)
      do {
        let middle = (x * x).sigmoid()
        let loss = middle * 2
        for _ in 0..<3 {
          loss.evaluate()
          loss.backward()
        }
        #expect(loss.replayPlan != nil)
        weakLoss = loss
        weakMiddle = middle
      }
      #expect(weakLoss == nil)
      #expect(weakMiddle == nil)
    }
  }

  @Test func zeroGradientsClearsArenaGradients() {
    CompiledReplay.withEnabled(true) {
      let x = Var(1.5, dtype: .float64)
      let middle = x.tanh()
      let y = middle * middle
      for _ in 0..<3 { y.backward() }
      #expect(middle.scalarSlot != nil)
      y.zeroGradients()
      #expect(middle.grad?.scalar ?? 0 == 0)
      #expect(x.grad!.scalar == 0)
    }
  }
}
