import Autodiff
import Testing

/// The batched matrix product against products of the matrices taken one by one.
@Suite("Batched matrix product")
struct BatchedMatrixProductTests {
  /// The matrix at `index` of the leading axes of a stack, as a node.
  func matrix(_ t: Tensor, _ index: Int) -> Var {
    let (rows, columns) = (t.shape[t.rank - 2], t.shape[t.rank - 1])
    let size = rows * columns
    return Var.constant(
      Tensor(
        Array(t.scalars[(index * size)..<((index + 1) * size)]), shape: [rows, columns],
        dtype: t.dtype))
  }

  /// Products of every form and broadcast against a loop over 2-D products, in Double and
  /// Float, on one and two threads (the threshold lowered so that small stacks split).
  @Test(arguments: [DType.float64, .float32], [1, 2])
  func matchesTheProductsOfItsMatrices(dtype: DType, threads: Int) {
    var rng = SeededGenerator(seed: 7)
    // (A's shape, B's shape, transposes, A's and B's matrix index for each product)
    let cases: [([Int], [Int], Bool, Bool, [(Int, Int)])] = [
      ([3, 5, 4], [3, 4, 6], false, false, [(0, 0), (1, 1), (2, 2)]),
      ([2, 4, 5], [2, 4, 6], true, false, [(0, 0), (1, 1)]),
      ([2, 5, 4], [2, 7, 4], false, true, [(0, 0), (1, 1)]),
      ([2, 4, 5], [2, 7, 4], true, true, [(0, 0), (1, 1)]),
      ([2, 1, 5, 4], [3, 4, 6], false, false, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]),
      ([5, 4], [3, 4, 6], false, false, [(0, 0), (0, 1), (0, 2)]),
      ([3, 4, 5], [4, 6], true, false, [(0, 0), (1, 0), (2, 0)]),
      ([2, 40, 33], [2, 33, 70], false, false, [(0, 0), (1, 1)]),
    ]
    for (aShape, bShape, ta, tb, pairs) in cases {
      let a = Tensor.normal(aShape, dtype: dtype, using: &rng)
      let b = Tensor.normal(bShape, dtype: dtype, using: &rng)
      let c = ComputeSettings.withThreads(threads, minimumWork: 0) {
        Var(a).matmul(Var(b), transposingSelf: ta, transposingOther: tb).value
      }
      var expected: [Double] = []
      for (i, j) in pairs {
        expected +=
          matrix(a.converted(to: .float64), i).matmul(
            matrix(b.converted(to: .float64), j), transposingSelf: ta, transposingOther: tb
          ).value.scalars
      }
      let tolerance = dtype == .float32 ? 1e-4 : 1e-12
      let worst = zip(c.scalars, expected).map { abs($0 - $1) }.max() ?? 0
      #expect(c.count == expected.count, "\(aShape) × \(bShape)")
      #expect(worst <= tolerance, "\(aShape) × \(bShape) (\(ta), \(tb)): error \(worst)")
    }
  }

  @Test func shapesBroadcastLikeNumPy() {
    let a = Var(Tensor.zeros([2, 1, 3, 4]))
    #expect(a.matmul(Var(Tensor.zeros([5, 4, 6]))).shape == [2, 5, 3, 6])
    #expect(a.matmul(Var(Tensor.zeros([4, 6]))).shape == [2, 1, 3, 6])
    #expect(Var(Tensor.zeros([3, 4])).matmul(Var(Tensor.zeros([7, 4, 2]))).shape == [7, 3, 2])
    #expect(
      a.matmul(Var(Tensor.zeros([2, 5, 6, 4])), transposingOther: true).shape == [2, 5, 3, 6])
  }

  /// A repeated operand's gradient is the sum over the products that used it, both by the
  /// fast rule and by the differentiable rule, threaded or not.
  @Test(arguments: [1, 2])
  func broadcastOperandGetsTheSumOfItsGradients(threads: Int) {
    var rng = SeededGenerator(seed: 3)
    let a = Var(Tensor.normal([3, 4], dtype: .float64, using: &rng))
    let b = Var(Tensor.normal([5, 4, 2], dtype: .float64, using: &rng))
    ComputeSettings.withThreads(threads, minimumWork: 0) { a.matmul(b).sum().backward() }
    // ∂a = Σ over the stack of 1·Bᵢᵀ: every row of ∂a is the sum of Bᵢ's rows' sums.
    for i in 0..<3 {
      for p in 0..<4 {
        var expected = 0.0
        for m in 0..<5 { for j in 0..<2 { expected += b.value[m, p, j] } }
        #expect(abs(a.grad![i, p] - expected) < 1e-12)
      }
    }
    let viaRules = gradients(of: a.matmul(b).sum(), withRespectTo: [a, b])
    for (rule, fast) in [(viaRules[0].value, a.grad!), (viaRules[1].value, b.grad!)] {
      #expect(zip(rule.scalars, fast.scalars).allSatisfy { abs($0 - $1) < 1e-12 })
    }
  }

  /// A built graph follows new shapes: another batch, another sequence length.
  @Test func reEvaluatedGraphFollowsNewShapes() {
    var rng = SeededGenerator(seed: 5)
    let a = Var(Tensor.normal([2, 3, 4], using: &rng))
    let b = Var(Tensor.normal([2, 5, 4], using: &rng))
    let c = a.matmul(b, transposingOther: true)
    let newA = Tensor.normal([4, 6, 4], using: &rng)
    let newB = Tensor.normal([4, 2, 4], using: &rng)
    a.set(newA)
    b.set(newB)
    c.evaluate()
    #expect(c.shape == [4, 6, 2])
    #expect(c.value == Var(newA).matmul(Var(newB), transposingOther: true).value)
  }
}
