import Autodiff
import Foundation
import Testing

@Suite("Graph behaviour")
struct GraphTests {
  @Test func courseExpressionPrintsAndDifferentiates() {
    let x = Var(2.0, dtype: .float64, name: "x")
    let y = Var(3.0, dtype: .float64, name: "y")
    let f = x.sin() + x * y
    #expect(f.description == "(sin(x) + (x * y))")
    f.backward()
    #expect(abs(x.grad!.scalar - (Foundation.cos(2.0) + 3)) < 1e-12)
    #expect(y.grad!.scalar == 2)
  }

  @Test func broadcastBiasSumsOverTheBatch() {
    let x = Var(Tensor([[1, 2, 3], [4, 5, 6]]), name: "x")
    let b = Var(Tensor([10, 20, 30]), name: "b")
    let y = (x + b).sum()
    y.backward()
    #expect(b.grad == Tensor([2, 2, 2]))
    #expect(x.grad == Tensor.ones([2, 3]))
  }

  @Test func reusedInputAccumulates() {
    let x = Var(3.0)
    let y = x * x + x  // dy/dx = 2x + 1 = 7
    y.backward()
    #expect(x.grad!.scalar == 7)
  }

  @Test func unusedInputGetsZero() {
    let x = Var(3.0)
    let unused = Var(Tensor([1, 2]))
    let y = x * 2
    let grads = gradients(of: y, withRespectTo: [x, unused])
    #expect(grads[0].value.scalar == 2)
    #expect(grads[1].value == Tensor.zeros([2]))
    y.backward()
    #expect(unused.grad == nil)
  }

  @Test func backwardTwiceAccumulatesAndZeroGradClears() {
    let x = Var(Tensor([1, 2]))
    let y = (x * x).sum()
    y.backward()
    y.backward()
    #expect(x.grad == Tensor([4, 8]))
    y.zeroGradients()
    #expect(x.grad == Tensor([0, 0]))
    y.backward()
    #expect(x.grad == Tensor([2, 4]))
  }

  /// zeroGradients() marks gradients zero without a pass over memory: they read as zeros,
  /// the next product's gradient overwrites them, the one after adds to them, and a tensor
  /// read from `grad` before keeps its values. Products and affine layers, both dtypes.
  @Test(arguments: [DType.float32, .float64])
  func zeroedGradientsReadAsZerosAndTakeTheNextContribution(dtype: DType) {
    var rng = SeededGenerator(seed: 7)
    let x = Var(Tensor.normal([5, 4], dtype: dtype, using: &rng), requiresGrad: true)
    let w = Var(Tensor.normal([4, 3], dtype: dtype, using: &rng))
    let v = Var(Tensor.normal([3, 6], dtype: dtype, using: &rng))
    let b = Var(Tensor.normal([6], dtype: dtype, using: &rng))
    let loss = (x.matmul(w).tanh().matmul(v, plus: b)).sigmoid().sum()
    let other = (x * x).sum()  // reaches x but not w, v or b
    let leaves = [x, w, v, b]
    loss.backward()
    let first = leaves.map { $0.grad! }
    let held = w.grad!
    loss.backward()
    // A product adds its terms to the gradient one by one, so twice g is not exact.
    let tolerance = dtype == .float32 ? 1e-5 : 1e-13
    for (leaf, g) in zip(leaves, first) {
      let difference = (leaf.grad! - (g + g)).scalars.map(abs).max()!
      #expect(difference <= tolerance * (1 + g.scalars.map(abs).max()!))
    }
    for leaf in leaves { leaf.zeroGradients() }
    for leaf in leaves { #expect(leaf.grad! == Tensor.zeros(leaf.shape, dtype: dtype)) }
    for leaf in leaves { leaf.zeroGradients() }
    loss.backward()
    for (leaf, g) in zip(leaves, first) { #expect(leaf.grad! == g) }
    #expect(held == first[1])
    loss.zeroGradients()
    other.backward()
    #expect(w.grad! == Tensor.zeros(w.shape, dtype: dtype))
    #expect(x.grad! == x.value * 2)
  }

  @Test func evaluateAfterSetMatchesAFreshGraph() {
    var rng = SeededGenerator(seed: 7)
    let x = Var(Tensor.normal([4, 3], using: &rng), name: "x")
    let w = Var(Tensor.normal([3, 2], using: &rng), name: "w")
    let shared = x.matmul(w).tanh()
    let loss = (shared * shared + shared.sigmoid()).mean()
    loss.backward()

    let newX = Tensor.normal([4, 3], using: &rng)
    x.set(newX)
    loss.evaluate()
    loss.zeroGradients()
    loss.backward()

    let x2 = Var(newX)
    let w2 = Var(w.value)
    let shared2 = x2.matmul(w2).tanh()
    let fresh = (shared2 * shared2 + shared2.sigmoid()).mean()
    fresh.backward()
    #expect(loss.value == fresh.value)
    #expect(w.grad == w2.grad)
    #expect(x.grad == x2.grad)
  }

  @Test func evaluateComputesSharedNodesOnce() {
    let runs = RunCounter()
    let counted = countedCopy(of: Var(1.0), runs)
    let y = counted + counted * counted
    runs.count = 0
    y.evaluate()
    #expect(runs.count == 1)
  }

  @Test func graphIsFreedWhenTheLastReferenceGoes() {
    weak var weakLoss: Var?
    weak var weakHidden: Var?
    let w = Var(Tensor([[1, 2], [3, 4]]))
    do {
      let hidden = Var(Tensor([[1, 1]])).matmul(w).relu()
      let loss = hidden.sum()
      loss.backward()
      weakLoss = loss
      weakHidden = hidden
    }
    #expect(weakLoss == nil)
    #expect(weakHidden == nil)
    #expect(w.grad != nil)
  }

  @Test func lifetimeEndsWithItsNodeAndIsItsOwn() {
    let kept = Var(1.0)
    var token: Var.Lifetime
    do {
      let node = Var(2.0) * kept
      token = node.lifetime
      #expect(node.lifetime === token)
      #expect(!token.hasEnded)
    }
    #expect(token.hasEnded)
    #expect(kept.lifetime !== token)
    #expect(!kept.lifetime.hasEnded)
    token = kept.lifetime
    #expect(kept.lifetime === token)
  }

  @Test func millionNodeChainEvaluatesBackpropagatesAndFrees() {
    let x = Var(1.0)
    weak var weakEnd: Var?
    do {
      var y = x
      for _ in 0..<1_000_000 { y = y * 1.0 + 0.0 }
      y.evaluate()
      y.backward()
      #expect(x.grad!.scalar == 1)
      #expect(y.topologicalOrder().count > 1_000_000)
      weakEnd = y
    }
    #expect(weakEnd == nil)
  }

  @Test func noGradRecordsNothingAndDetachedStopsGradients() {
    let x = Var(2.0)
    let y = noGrad { x * x }
    #expect(y.isLeaf)
    #expect(!y.requiresGrad)
    let z = x.detached() * x
    z.backward()
    #expect(x.grad!.scalar == 2)
  }

  @Test func thirdDerivativeOfCube() {
    let x = Var(2.0)
    let y = x * x * x
    let d1 = gradients(of: y, withRespectTo: [x], createGraph: true)[0]
    let d2 = gradients(of: d1, withRespectTo: [x], createGraph: true)[0]
    let d3 = gradients(of: d2, withRespectTo: [x], createGraph: true)[0]
    #expect(d1.value.scalar == 12)
    #expect(d2.value.scalar == 12)
    #expect(d3.value.scalar == 6)
  }

  @Test func hessianVectorProductMatchesFiniteDifferences() {
    var rng = SeededGenerator(seed: 3)
    let x = Var(Tensor.normal([4], dtype: .float64, using: &rng))
    let a = Var.constant(Tensor.normal([4, 4], dtype: .float64, using: &rng))
    func f(_ x: Var) -> Var { (x.reshaped([1, 4]).matmul(a).tanh() * x.reshaped([1, 4])).sum() }
    let v = Tensor.normal([4], dtype: .float64, using: &rng)
    let g = gradients(of: f(x), withRespectTo: [x], createGraph: true)[0]
    let hv = gradients(of: (g * Var.constant(v)).sum(), withRespectTo: [x])[0].value

    let h = 1e-5
    func gradientAt(_ t: Tensor) -> Tensor {
      let p = Var(t)
      return gradients(of: f(p), withRespectTo: [p])[0].value
    }
    var plus = x.value
    var minus = x.value
    for i in 0..<4 {
      plus[flat: i] += h * v[flat: i]
      minus[flat: i] -= h * v[flat: i]
    }
    let gp = gradientAt(plus)
    let gm = gradientAt(minus)
    for i in 0..<4 {
      #expect(abs(hv[flat: i] - (gp[flat: i] - gm[flat: i]) / (2 * h)) < 1e-6)
    }
  }

  @Test func topologicalOrderVisitsEachSharedNodeOnce() {
    let x = Var(1.0, name: "x")
    var y = x
    for _ in 0..<10 { y = y + y }
    #expect(y.topologicalOrder().count == 11)
    let visits = PathBackward.run(from: y)
    #expect(visits.total == 2047)
    #expect(visits.count(for: x) == 1024)
    #expect(x.grad!.scalar == 1024)
    x.grad = nil
    y.backward()
    #expect(x.grad!.scalar == 1024)
  }

  @Test func dotListsOpsShapesAndEdges() {
    let x = Var(Tensor([[1, 2]]), name: "x")
    let w = Var(Tensor([[1], [2]]), name: "w")
    let y = x.matmul(w).sigmoid()
    let dot = y.dot()
    #expect(dot.hasPrefix("digraph {"))
    #expect(dot.contains("matmul\\n[1, 1]"))
    #expect(dot.contains("sigmoid"))
    #expect(dot.contains("x\\n[1, 2]"))
    #expect(dot.components(separatedBy: "->").count - 1 == 3)
  }

  @Test func nonFiniteValueIsTracedToItsOp() {
    let x = Var(Tensor([1, 0, 2]))
    let y = (x.log() * 2).sum()
    let bad = y.firstNonFiniteNode()
    #expect(bad?.creator?.name == "log")
  }

  @Test func stableFunctionsStayFiniteAtExtremes() {
    let x = Var(Tensor([-1000, -50, 0, 50, 1000]))
    #expect(x.sigmoid().value.isFinite)
    #expect(x.softplus().value.isFinite)
    #expect(x.logSoftmax().value.isFinite)
    #expect(x.reshaped([1, 5]).logSumExp(along: 1).value.scalar == 1000)
    let bce = binaryCrossEntropy(logits: x, target: Var(Tensor([0, 0, 1, 1, 1])))
    #expect(bce.value.isFinite)
    let p = Var(Tensor([0, 1]))
    #expect(binaryCrossEntropy(predicted: p, target: Var(Tensor([1, 0]))).value.isFinite)
  }

  @Test func courseWorkedNumbers() {
    let s = Var(Tensor([[0.6, 3.4, -1.2, 0.05]])).softmax().value.scalars
    let expected = [0.06, 0.90, 0.009, 0.031]
    for (a, b) in zip(s, expected) { #expect(abs(a - b) < 0.006) }  // the course's rounding
    // −ln 0.30 ≈ 1.20 and −ln 0.79 ≈ 0.24 for true class 2 of 4 (index 1).
    let p1 = Var(Tensor([[0.23, 0.30, 0.23, 0.23]])).log()
    let p2 = Var(Tensor([[0.06, 0.79, 0.07, 0.09]])).log()
    let l1 = negativeLogLikelihood(logProbabilities: p1, labels: Var.labels([1], dtype: .float64))
    let l2 = negativeLogLikelihood(logProbabilities: p2, labels: Var.labels([1], dtype: .float64))
    #expect(abs(l1.value.scalar - 1.20) < 0.005)
    #expect(abs(l2.value.scalar - 0.24) < 0.005)
  }

  @Test func crossEntropyEqualsNLLOfLogSoftmax() {
    var rng = SeededGenerator(seed: 11)
    let x = Var(Tensor.normal([5, 4], dtype: .float64, using: &rng))
    let labels = Var.labels([0, 3, 2, 2, 1], dtype: .float64)
    let a = crossEntropy(logits: x, labels: labels)
    let b = negativeLogLikelihood(logProbabilities: x.logSoftmax(), labels: labels)
    #expect(abs(a.value.scalar - b.value.scalar) < 1e-12)
  }

  @Test func floatGraphsWork() {
    let x = Var(Tensor([Float(1), 2, 3], shape: [3]))
    let y = (x * 2).sigmoid().sum()
    y.backward()
    #expect(x.grad!.dtype == .float32)
    #expect(abs(x.grad![0] - 2 * 0.8807970779778823 * (1 - 0.8807970779778823)) < 1e-6)
  }
}

@Suite("Fused ops against their composed oracles")
struct FusedOpTests {
  @Test(arguments: [LossReduction.mean, .sum])
  func binaryCrossEntropyMatchesItsComposition(reduction: LossReduction) {
    var rng = SeededGenerator(seed: 21)
    var y = Tensor.uniform([4, 6], in: 0...1, dtype: .float64, using: &rng)
    y[0, 0] = 0  // clamped ends
    y[1, 1] = 1
    let t = Tensor.bernoulli([4, 6], probability: 0.5, dtype: .float64, using: &rng)
    let (y1, t1, y2, t2) = (Var(y), Var(t), Var(y), Var(t))
    let fused = binaryCrossEntropy(predicted: y1, target: t1, reduction: reduction)
    let composed = composedBinaryCrossEntropy(predicted: y2, target: t2, reduction: reduction)
    #expect(abs(fused.value.scalar - composed.value.scalar) < 1e-12)
    fused.backward()
    composed.backward()
    for i in 0..<y.count {
      #expect(abs(y1.grad![flat: i] - y2.grad![flat: i]) < 1e-9)
      #expect(abs(t1.grad![flat: i] - t2.grad![flat: i]) < 1e-9)
    }
  }
}

extension FusedOpTests {
  /// With no clamping (ε = 0), or an ε that Float cannot tell from 0 at 1, a saturated
  /// prediction makes the loss NaN where its composed form is NaN (0 · log 0) and infinite
  /// where it is infinite, for targets of exactly 0 or 1 too; inside (0, 1) both agree to
  /// rounding.
  @Test(arguments: [0.0, 1e-9])
  func binaryCrossEntropyAtTheEndsIsItsComposition(epsilon: Double) {
    for (y, t) in [(1.0, 1.0), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.25, 1.0), (0.75, 0.0)] {
      let (p, target) = (Var(Tensor([y], dtype: .float32)), Var(Tensor([t], dtype: .float32)))
      let fused = binaryCrossEntropy(predicted: p, target: target, epsilon: epsilon).value.scalar
      let composed = composedBinaryCrossEntropy(predicted: p, target: target, epsilon: epsilon)
        .value.scalar
      #expect(
        fused.isNaN == composed.isNaN
          && (fused.isNaN || fused == composed || abs(fused - composed) < 1e-6),
        "y \(y), t \(t), ε \(epsilon): fused \(fused), composed \(composed)")
    }
  }
}

@Suite("Re-evaluation")
struct ReevaluationTests {
  /// The address of each node's value storage.
  func addresses(_ nodes: [Var]) -> [UnsafeRawPointer?] {
    nodes.map { node in
      node.value.dtype == .float32
        ? node.value.withUnsafeBufferPointer(as: Float.self) { UnsafeRawPointer($0.baseAddress) }
        : node.value.withUnsafeBufferPointer(as: Double.self) { UnsafeRawPointer($0.baseAddress) }
    }
  }

  @Test func reevaluatingWithUnchangedShapesReusesEveryBuffer() {
    var rng = SeededGenerator(seed: 5)
    let x = Var(Tensor.normal([8, 5], dtype: .float32, using: &rng), requiresGrad: false)
    let w = Var(Tensor.normal([5, 4], dtype: .float32, using: &rng))
    let b = Var(Tensor.zeros([4], dtype: .float32))
    let loss = crossEntropy(
      logits: (x.matmul(w) + b).tanh().softmax().log(), labels: [0, 1, 2, 3, 0, 1, 2, 3])
    let nodes = loss.topologicalOrder().filter { !$0.isLeaf }
    let before = addresses(nodes)
    for _ in 0..<3 {
      x.set(Tensor.normal([8, 5], dtype: .float32, using: &rng))
      loss.evaluate()
      loss.backward()
    }
    #expect(addresses(nodes) == before)
  }
}

/// Counts the forward runs of ``countedCopy(of:_:)``.
final class RunCounter {
  var count = 0
}

/// A node that copies `x` and counts each run of its forward in `runs`.
func countedCopy(of x: Var, _ runs: RunCounter) -> Var {
  Var(
    op: "counted", args: [x],
    forward: { args, value in
      runs.count += 1
      value = args[0].value
    },
    vectorJacobianProduct: { _, _, s in [s] })
}
