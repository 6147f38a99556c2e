import Testing

@testable import Autodiff

/// The kernels behind the fused LSTM sequence: the product with a B packed once, the row
/// panels of thin products, and the two row orders of the sequence op.
@Suite("Sequence kernels")
struct SequenceKernelTests {
  func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  /// C (+)= op(A) · op(B) with op(B) packed once and read from the packed copy, against a
  /// triple loop: row counts whose last panel splits (7, 8, 13, 14, 32, 122 rows), one and
  /// two rows (the thin kernels, with whole and partial groups of panels), odd column
  /// counts (partial panels), k past one block of the kernel, both transpositions of B,
  /// overwriting and accumulating, both dtypes.
  @Test(arguments: [DType.float32, .float64])
  func productWithPackedB(dtype: DType) {
    var rng = SeededGenerator(seed: 17)
    let shapes = [
      (7, 33, 20), (8, 16, 9), (13, 5, 300), (14, 128, 64), (32, 47, 129), (122, 19, 31),
      (1, 100, 300), (2, 70, 40), (1, 1024, 260), (2, 33, 7),
    ]
    for (m, n, k) in shapes {
      for transB in [false, true] {
        for accumulate in [false, true] {
          let a = Tensor.normal([m, k], dtype: dtype, using: &rng)
          let b = Tensor.normal(transB ? [n, k] : [k, n], dtype: dtype, using: &rng)
          let c0 = Tensor.normal([m, n], dtype: dtype, using: &rng)
          var expected = [Double](repeating: 0, count: m * n)
          let (x, y, z) = (a.scalars, b.scalars, c0.scalars)
          for i in 0..<m {
            for j in 0..<n {
              var total = accumulate ? z[i * n + j] : 0
              for p in 0..<k { total += x[i * k + p] * (transB ? y[j * k + p] : y[p * n + j]) }
              expected[i * n + j] = total
            }
          }
          let actual: [Double]
          switch dtype {
          case .float32: actual = product(Float.self, a, b, c0, m, n, k, transB, accumulate)
          case .float64: actual = product(Double.self, a, b, c0, m, n, k, transB, accumulate)
          }
          let tolerance = dtype == .float32 ? 1e-4 * Double(k).squareRoot() : 1e-11 * Double(k)
          #expect(
            maxDifference(actual, expected) <= tolerance,
            "\(dtype) [\(m), \(k)] × [\(k), \(n)]\(transB ? "ᵀ" : "") accumulate \(accumulate)")
        }
      }
    }
  }

  private func product<T: TensorScalar>(
    _: T.Type, _ a: Tensor, _ b: Tensor, _ c0: Tensor, _ m: Int, _ n: Int, _ k: Int,
    _ transB: Bool, _ accumulate: Bool
  ) -> [Double] {
    var c = c0
    let packed = UnsafeMutablePointer<T>.allocate(capacity: Kernels.packedCount(T.self, k: k, n: n))
    defer { packed.deallocate() }
    let ldb = transB ? k : n
    Kernels.packB(
      T.self, transB: transB, b: b.pointer(as: T.self), ldb: ldb, k: k, n: n, into: packed)
    c.withUnsafeMutableBufferPointer(as: T.self) { out in
      Kernels.gemm(
        T.self, transA: false, transB: transB, m: m, n: n, k: k, a: a.pointer(as: T.self),
        lda: k, b: b.pointer(as: T.self), ldb: ldb, c: out.baseAddress!, ldc: n,
        accumulate: accumulate, packedB: packed)
    }
    withExtendedLifetime((a, b)) {}
    return c.scalars
  }

  /// Row panels cover every row once, in order, with no panel taller than the kernel's.
  @Test func rowPanelsCoverTheRows() {
    for rows in 1...130 {
      for splits in [false, true] {
        let panels = Kernels.RowPanels(rows: rows, mr: 6, splitsTail: splits)
        var next = 0
        for q in 0..<panels.count {
          let (start, count) = panels[q]
          #expect(start == next && count >= 1 && count <= 6, "\(rows) rows, panel \(q)")
          next = start + count
        }
        #expect(next == rows)
        let tail = panels[panels.count - 1].rows
        if splits && rows > 6 && rows <= 48 {
          #expect(tail >= 3, "\(rows) rows end in a panel of \(tail)")
        }
      }
    }
  }

  /// The sequence op on P in one row order and on the same rows in the other gives the same
  /// hidden states (reordered) and gradients, for both dtypes, on one and two threads, with
  /// sizes that leave partial vectors in the C cell kernels (h = 5) and partial panels.
  @Test(arguments: [DType.float32, .float64], [1, 2])
  func batchMajorEqualsTimeMajor(dtype: DType, threads: Int) {
    var rng = SeededGenerator(seed: 23)
    let (n, h, steps) = (7, 5, 4)
    let timeMajor = Tensor.normal([steps * n, 4 * h], dtype: dtype, using: &rng)
    // Row t·n + r of the time-major P is row r·steps + t of the batch-major one.
    let order = (0..<(n * steps)).map { q in (q % steps) * n + q / steps }
    let batchMajor = timeMajor.gatheringRows(order)
    let w = Var(Tensor.normal([h, 4 * h], dtype: dtype, using: &rng))
    let h0 = Var(Tensor.normal([n, h], dtype: dtype, using: &rng))
    let c0 = Var(Tensor.normal([n, h], dtype: dtype, using: &rng))
    let weights = Tensor.normal([steps * n, h], dtype: dtype, using: &rng)
    func run(_ projections: Tensor, batchMajor: Bool, weights: Tensor) -> [Tensor] {
      ComputeSettings.withThreads(threads, minimumWork: 0) {
        let p = Var(projections)
        for v in [p, w, h0, c0] { v.zeroGradients() }
        let y = Var.lstmSequence(
          inputProjections: p, recurrentWeight: w, hidden: h0, cell: c0, batchMajor: batchMajor)
        (y * Var.constant(weights)).sum().backward()
        return [y.value, p.grad!, w.grad!, h0.grad!, c0.grad!]
      }
    }
    let a = run(timeMajor, batchMajor: false, weights: weights)
    let b = run(batchMajor, batchMajor: true, weights: weights.gatheringRows(order))
    let tolerance = dtype == .float32 ? 1e-5 : 1e-12
    #expect(maxDifference(a[0].gatheringRows(order).scalars, b[0].scalars) <= tolerance)
    #expect(maxDifference(a[1].gatheringRows(order).scalars, b[1].scalars) <= tolerance)
    for i in 2..<5 { #expect(maxDifference(a[i].scalars, b[i].scalars) <= tolerance) }
  }

  /// The bias given to the op is the bias added to every row of P, forward and backward.
  @Test(arguments: [DType.float32, .float64])
  func biasEqualsAddingItToTheProjections(dtype: DType) {
    var rng = SeededGenerator(seed: 31)
    let (n, h, steps) = (5, 6, 3)
    let p = Var(Tensor.normal([steps * n, 4 * h], dtype: dtype, using: &rng))
    let b = Var(Tensor.normal([4 * h], dtype: dtype, using: &rng))
    let w = Var(Tensor.normal([h, 4 * h], dtype: dtype, using: &rng))
    let h0 = Var(Tensor.normal([n, h], dtype: dtype, using: &rng))
    let c0 = Var(Tensor.normal([n, h], dtype: dtype, using: &rng))
    let weights = Var.constant(Tensor.normal([steps * n, h], dtype: dtype, using: &rng))
    func run(fused: Bool) -> [Tensor] {
      for v in [p, b, w, h0, c0] { v.zeroGradients() }
      let y =
        fused
        ? Var.lstmSequence(
          inputProjections: p, recurrentWeight: w, bias: b, hidden: h0, cell: c0,
          batchMajor: true)
        : Var.lstmSequence(
          inputProjections: p + b, recurrentWeight: w, hidden: h0, cell: c0, batchMajor: true)
      (y * weights).sum().backward()
      return [y.value, p.grad!, b.grad!, w.grad!, h0.grad!, c0.grad!]
    }
    let (a, c) = (run(fused: true), run(fused: false))
    let tolerance = dtype == .float32 ? 1e-5 : 1e-12
    for (x, y) in zip(a, c) { #expect(maxDifference(x.scalars, y.scalars) <= tolerance) }
  }

  /// In `Float`, the vectorized cell kernels agree with the portable Swift loops, forward
  /// and backward, in both row orders.
  @Test(arguments: [false, true])
  func cellKernelsAgreeWithThePortableLoops(batchMajor: Bool) {
    var rng = SeededGenerator(seed: 29)
    let (n, h, steps) = (9, 13, 5)
    let p = Var(Tensor.normal([steps * n, 4 * h], dtype: .float32, using: &rng))
    let w = Var(Tensor.normal([h, 4 * h], dtype: .float32, using: &rng))
    let h0 = Var(Tensor.normal([n, h], dtype: .float32, using: &rng))
    let c0 = Var(Tensor.normal([n, h], dtype: .float32, using: &rng))
    let weights = Var.constant(Tensor.normal([steps * n, h], dtype: .float32, using: &rng))
    func run(_ level: KernelLevel) -> [Tensor] {
      ComputeSettings.withKernelLevel(level) {
        for v in [p, w, h0, c0] { v.zeroGradients() }
        let y = Var.lstmSequence(
          inputProjections: p, recurrentWeight: w, hidden: h0, cell: c0, batchMajor: batchMajor)
        (y * weights).sum().backward()
        return [y.value, p.grad!, w.grad!, h0.grad!, c0.grad!]
      }
    }
    let (fast, portable) = (run(.best), run(.portable))
    for (a, b) in zip(fast, portable) {
      #expect(maxDifference(a.scalars, b.scalars) <= 1e-4 * (1 + b.scalars.map(abs).max()!))
    }
  }
}
