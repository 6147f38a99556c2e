import Autodiff
import CKernels
import Testing

/// The fast matrix product against a triple loop, on awkward shapes.
@Suite("Matrix product kernels")
struct MatrixProductTests {
  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 7, 1), (7, 1, 5), (3, 5, 2), (6, 32, 17), (5, 31, 33), (7, 33, 257),
    (121, 40, 30), (119, 65, 255), (200, 3, 300), (2, 500, 64), (64, 100, 300), (130, 130, 130),
    (1, 300, 40), (1, 96, 520), (64, 10, 256), (256, 10, 64), (40, 15, 300), (33, 1, 70),
  ]

  func reference(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool) -> [Double] {
    let (m, k) = ta ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let n = tb ? b.shape[0] : b.shape[1]
    let (x, y) = (a.scalars, b.scalars)
    let (lda, ldb) = (a.shape[1], b.shape[1])
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        var total = 0.0
        for p in 0..<k {
          total += (ta ? x[p * lda + i] : x[i * lda + p]) * (tb ? y[j * ldb + p] : y[p * ldb + j])
        }
        c[i * n + j] = total
      }
    }
    return c
  }

  func check(dtype: DType, level: KernelLevel, threads: Int) {
    var rng = SeededGenerator(seed: 99)
    for (m, n, k) in Self.shapes {
      for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let a = Tensor.normal(ta ? [k, m] : [m, k], dtype: dtype, using: &rng)
        let b = Tensor.normal(tb ? [n, k] : [k, n], dtype: dtype, using: &rng)
        let c = ComputeSettings.withKernelLevel(level) {
          ComputeSettings.withThreads(threads, minimumWork: 0) {
            Var(a).matmul(Var(b), transposingSelf: ta, transposingOther: tb).value
          }
        }
        let expected = reference(a, b, ta, tb)
        let tolerance = dtype == .float32 ? 1e-4 * Double(k).squareRoot() : 1e-11 * Double(k)
        let actual = c.scalars
        var worst = 0.0
        for i in 0..<expected.count { worst = max(worst, abs(actual[i] - expected[i])) }
        #expect(
          worst <= tolerance,
          "\(dtype) \(level) threads \(threads): [\(m), \(k)]\(ta ? "ᵀ" : "") × [\(k), \(n)]\(tb ? "ᵀ" : ""): error \(worst)"
        )
      }
    }
  }

  @Test(arguments: [DType.float32, .float64], [1, 2])
  func bestKernels(dtype: DType, threads: Int) {
    check(dtype: dtype, level: .best, threads: threads)
  }

  @Test(arguments: [DType.float32, .float64])
  func portableKernels(dtype: DType) { check(dtype: dtype, level: .portable, threads: 2) }

  @Test(arguments: [DType.float32, .float64])
  func avx2Kernels(dtype: DType) { check(dtype: dtype, level: .avx2, threads: 1) }

  /// A product with few columns and many rows is computed transposed (every lane of the
  /// register block then holds a result). Each element is still the same chain of
  /// multiply-adds, so C = A·B equals (Bᵀ·Aᵀ)ᵀ to the bit, at every kernel level and
  /// thread count, and a gradient it is added to gets exactly G + A·B.
  @Test(arguments: [KernelLevel.best, .portable], [1, 2])
  func narrowProductsEqualTheTransposedProduct(level: KernelLevel, threads: Int) {
    var rng = SeededGenerator(seed: 7)
    for dtype in [DType.float32, .float64] {
      for (m, n, k) in [(64, 10, 256), (256, 10, 64), (200, 3, 300), (33, 1, 70), (48, 7, 5)] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
          let a = Var(Tensor.normal(ta ? [k, m] : [m, k], dtype: dtype, using: &rng))
          let b = Var(Tensor.normal(tb ? [n, k] : [k, n], dtype: dtype, using: &rng))
          let (direct, transposed) = ComputeSettings.withKernelLevel(level) {
            ComputeSettings.withThreads(threads, minimumWork: 0) {
              (
                a.matmul(b, transposingSelf: ta, transposingOther: tb).value,
                b.matmul(a, transposingSelf: !tb, transposingOther: !ta).value
              )
            }
          }
          let shape = "\(dtype) \(level) threads \(threads) m \(m) n \(n) k \(k) \(ta) \(tb)"
          #expect(direct.shape == [m, n], "\(shape)")
          var mismatches = 0
          for i in 0..<m {
            for j in 0..<n where direct[i, j] != transposed[j, i] { mismatches += 1 }
          }
          #expect(mismatches == 0, "\(shape): \(mismatches) elements differ")
        }
      }
      // Accumulating: the weight gradient of a 10-class output layer, hᵀ·s, added to an
      // existing gradient (k ≤ 256, so each element is G + its one sum).
      let h = Var.constant(Tensor.normal([64, 128], dtype: dtype, using: &rng))
      let w = Var(Tensor.normal([128, 10], dtype: dtype, using: &rng))
      let upstream = Tensor.normal([64, 10], dtype: dtype, using: &rng)
      let existing = Tensor.normal([128, 10], dtype: dtype, using: &rng)
      w.grad = existing
      let product = ComputeSettings.withKernelLevel(level) {
        ComputeSettings.withThreads(threads, minimumWork: 0) {
          h.matmul(w).backward(upstream)
          return h.matmul(Var.constant(upstream), transposingSelf: true).value
        }
      }
      var mismatches = 0
      for i in 0..<128 {
        for j in 0..<10 {
          let (g, p) = (existing[i, j], product[i, j])
          let expected = dtype == .float32 ? Double(Float(g) + Float(p)) : g + p
          if w.grad![i, j] != expected { mismatches += 1 }
        }
      }
      #expect(mismatches == 0, "\(dtype) \(level): \(mismatches) accumulated elements differ")
    }
  }

  /// Small products (which skip packing) sum each element in the order p = 0, 1, …, k − 1,
  /// whatever their shape and transposes: exactly the sequential sum, in Float and in
  /// Double, and when accumulating into a gradient too.
  @Test(arguments: [
    (1, 1, 1), (5, 3, 8), (5, 8, 3), (3, 8, 5), (8, 3, 5), (4, 7, 6), (2, 9, 4), (9, 70, 3),
    (3, 2, 300),
  ])
  func smallProductsSumInOrder(m: Int, n: Int, k: Int) {
    sumsInOrder(Float.self, m: m, n: n, k: k)
    sumsInOrder(Double.self, m: m, n: n, k: k)
  }

  private func sumsInOrder<T: TensorScalar>(_: T.Type, m: Int, n: Int, k: Int) {
    var rng = SeededGenerator(seed: UInt64(m * 100 + n * 10 + k))
    let dtype: DType = T.self == Float.self ? .float32 : .float64
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
      let a = Tensor.normal(ta ? [k, m] : [m, k], dtype: dtype, using: &rng)
      let b = Tensor.normal(tb ? [n, k] : [k, n], dtype: dtype, using: &rng)
      let (x, y) = (a.scalars.map { T($0) }, b.scalars.map { T($0) })
      let (lda, ldb) = (a.shape[1], b.shape[1])
      func sequential(_ i: Int, _ j: Int, from start: T) -> T {
        var total = start
        for p in 0..<k {
          total += (ta ? x[p * lda + i] : x[i * lda + p]) * (tb ? y[j * ldb + p] : y[p * ldb + j])
        }
        return total
      }
      let c = Var(a).matmul(Var(b), transposingSelf: ta, transposingOther: tb).value
      for i in 0..<m {
        for j in 0..<n { #expect(T(c[flat: i * n + j]) == sequential(i, j, from: 0)) }
      }
      // The backward product of a with an upstream of ones, added to a gradient of 0.5:
      // ∂a = s·bᵀ (or its transposes), each element summed from 0.5 in order.
      let left = Var(a)
      left.grad = Tensor(repeating: 0.5, shape: a.shape, dtype: dtype)
      left.matmul(Var.constant(b), transposingSelf: ta, transposingOther: tb)
        .backward(Tensor(repeating: 1, shape: [m, n], dtype: dtype))
      for row in 0..<a.shape[0] {
        for column in 0..<a.shape[1] {
          // a[row, column] is element (i, p) of op(a); its gradient is Σ_j b(p, j).
          let p = ta ? row : column
          var total: T = 0.5
          for j in 0..<n { total += 1 * (tb ? y[j * ldb + p] : y[p * ldb + j]) }
          #expect(T(left.grad![flat: row * a.shape[1] + column]) == total)
        }
      }
    }
  }

  /// The affine op is the product plus the bias, bit for bit: its value and all three
  /// gradients, with rows as a matrix or a stack, with or without a transposed weight, in
  /// Float and in Double, and when accumulating into gradients already there.
  @Test(arguments: [DType.float32, .float64])
  func affineProductIsTheProductPlusTheBias(dtype: DType) {
    var rng = SeededGenerator(seed: 12)
    for (xShape, transposed) in [
      ([7, 5], false), ([7, 5], true), ([2, 3, 5], false), ([40, 70], true),
    ] {
      let n = 9
      let x = Tensor.normal(xShape, dtype: dtype, using: &rng)
      let w = Tensor.normal(
        transposed ? [n, xShape.last!] : [xShape.last!, n], dtype: dtype, using: &rng)
      let b = Tensor.normal([n], dtype: dtype, using: &rng)
      let s = Tensor.normal(Array(xShape.dropLast()) + [n], dtype: dtype, using: &rng)
      func run(fused: Bool) -> [Tensor] {
        let (xv, wv, bv) = (Var(x), Var(w), Var(b))
        for v in [xv, wv, bv] { v.grad = Tensor(repeating: 0.25, shape: v.shape, dtype: dtype) }
        let y =
          fused
          ? xv.matmul(wv, transposingOther: transposed, plus: bv)
          : xv.matmul(wv, transposingOther: transposed) + bv
        y.backward(s)
        return [y.value, xv.grad!, wv.grad!, bv.grad!]
      }
      let (fused, composed) = (run(fused: true), run(fused: false))
      for (f, c) in zip(fused, composed) {
        #expect(f.shape == c.shape)
        #expect(f.scalars == c.scalars, "\(xShape) transposed: \(transposed)")
      }
    }
    // Mixed dtypes take the two-op form, which multiplies in the operands' own dtype.
    let single = Var(Tensor.normal([4, 3], dtype: .float32, using: &rng))
    let weight = Var(Tensor.normal([3, 2], dtype: .float32, using: &rng))
    let wide = Var(Tensor.normal([2], dtype: .float64, using: &rng))
    let mixed = single.matmul(weight, plus: wide)
    #expect(mixed.dtype == .float64)
    #expect(mixed.value == (single.matmul(weight) + wide).value)
    // A bias that is not a vector of the product's width takes the broadcasting sum.
    let x = Var(Tensor.normal([4, 3], dtype: dtype, using: &rng))
    let w = Var(Tensor.normal([3, 2], dtype: dtype, using: &rng))
    let column = Var(Tensor.normal([4, 1], dtype: dtype, using: &rng))
    #expect(x.matmul(w, plus: column).value == (x.matmul(w) + column).value)
    #expect(x.matmul(w, plus: column).creator?.name == "add")
  }

  /// A product with an inner dimension of 0 is an empty sum: it writes zeros, or leaves C
  /// as it was when accumulating (what it held before must not show through).
  @Test func emptyInnerDimensionGivesZeros() {
    for accumulate: Int32 in [0, 1] {
      var c = [Float](repeating: 7, count: 12)
      let (a, b) = ([Float](repeating: 1, count: 1), [Float](repeating: 1, count: 1))
      ad_small_gemm_f32(0, 0, 3, 4, 0, a, 1, b, 4, &c, 4, accumulate)
      #expect(c == [Float](repeating: accumulate == 1 ? 7 : 0, count: 12))
      var d = [Double](repeating: 7, count: 12)
      ad_small_gemm_f64(1, 1, 3, 4, 0, [1], 3, [1], 1, &d, 4, accumulate)
      #expect(d == [Double](repeating: accumulate == 1 ? 7 : 0, count: 12))
    }
    let product = Var(Tensor.zeros([3, 0], dtype: .float32)).matmul(
      Var(Tensor.zeros([0, 4], dtype: .float32)))
    #expect(product.shape == [3, 4] && product.value.scalars.allSatisfy { $0 == 0 })
  }

  /// With two threads, the two products of a product's backward rule that are each too
  /// small to split run at the same time, one per thread. The gradients are those of one
  /// thread to the bit: written into stale gradients, added to existing ones, for every
  /// transpose, for the affine op, and for a product of a node with itself (which runs its
  /// two products one after the other).
  @Test(arguments: [DType.float32, .float64])
  func backwardProductsRunTogetherWithTheSameResult(dtype: DType) {
    var rng = SeededGenerator(seed: 21)
    let (m, k, n) = (64, 96, 10)
    // Each backward product here has 61,440 multiply-adds: below a threshold of 2²⁰ and
    // above 1/32 of it, so with two threads they run together.
    func gradients(threads: Int, _ body: () -> Void) {
      ComputeSettings.withThreads(threads, minimumWork: threads == 1 ? nil : 1 << 20, body)
    }
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
      let a = Tensor.normal(ta ? [k, m] : [m, k], dtype: dtype, using: &rng)
      let b = Tensor.normal(tb ? [n, k] : [k, n], dtype: dtype, using: &rng)
      let s = Tensor.normal([m, n], dtype: dtype, using: &rng)
      let existing = (
        Tensor.normal(a.shape, dtype: dtype, using: &rng),
        Tensor.normal(b.shape, dtype: dtype, using: &rng)
      )
      func run(threads: Int, affine: Bool, stale: Bool) -> [Tensor] {
        let (x, w) = (Var(a), Var(b))
        let bias = Var(Tensor.zeros([n], dtype: dtype))
        if stale {
          for v in [x, w, bias] { v.grad = Tensor.ones(v.shape, dtype: dtype) }
          for v in [x, w, bias] { v.zeroGradients() }
        } else {
          x.grad = existing.0
          w.grad = existing.1
        }
        let y =
          affine && !ta
          ? x.matmul(w, transposingOther: tb, plus: bias)
          : x.matmul(w, transposingSelf: ta, transposingOther: tb)
        gradients(threads: threads) { y.backward(s) }
        return [x.grad!, w.grad!]
      }
      for affine in [false, true] {
        for stale in [false, true] {
          let (one, two) = (
            run(threads: 1, affine: affine, stale: stale),
            run(threads: 2, affine: affine, stale: stale)
          )
          for (g1, g2) in zip(one, two) {
            #expect(g1 == g2, "\(dtype) \(ta) \(tb) affine \(affine) stale \(stale)")
          }
        }
      }
    }
    // x·xᵀ: both products write the one gradient of x.
    let x = Tensor.normal([64, 40], dtype: dtype, using: &rng)
    let upstream = Tensor.normal([64, 64], dtype: dtype, using: &rng)
    var results: [Tensor] = []
    for threads in [1, 2] {
      let v = Var(x)
      ComputeSettings.withThreads(threads, minimumWork: threads == 1 ? nil : 1 << 20) {
        v.matmul(v, transposingOther: true).backward(upstream)
      }
      results.append(v.grad!)
    }
    #expect(results[0] == results[1])
  }

  /// A product split over threads equals the one-thread product to the bit, whichever way
  /// it is split: by columns with all of A packed once for the threads (at most one block of
  /// rows, several k blocks, tail panels), by rows with all of B packed once, or in fixed
  /// halves (large operands); forward and both gradients, for every transpose.
  @Test(arguments: [DType.float32, .float64])
  func threadedProductsEqualOneThreadToTheBit(dtype: DType) {
    var rng = SeededGenerator(seed: 33)
    let shapes = [
      (64, 256, 784), (7, 100, 300), (100, 200, 300), (784, 40, 64), (500, 9, 30),
      (130, 200, 70), (300, 120, 260), (400, 300, 450),
    ]
    for (m, n, k) in shapes {
      for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let a = Tensor.normal(ta ? [k, m] : [m, k], dtype: dtype, using: &rng)
        let b = Tensor.normal(tb ? [n, k] : [k, n], dtype: dtype, using: &rng)
        let s = Tensor.normal([m, n], dtype: dtype, using: &rng)
        func run(threads: Int) -> [Tensor] {
          let (x, w) = (Var(a), Var(b))
          let y = x.matmul(w, transposingSelf: ta, transposingOther: tb)
          ComputeSettings.withThreads(threads, minimumWork: 0) {
            y.evaluate()
            y.backward(s)
          }
          return [y.value, x.grad!, w.grad!]
        }
        let (one, two) = (run(threads: 1), run(threads: 2))
        for (index, (t1, t2)) in zip(one, two).enumerated() {
          #expect(t1 == t2, "\(dtype) m \(m) n \(n) k \(k) \(ta) \(tb): result \(index)")
        }
      }
    }
  }

  @Test func backwardAccumulatesIntoExistingGradients() {
    var rng = SeededGenerator(seed: 4)
    let a = Var(Tensor.normal([70, 90], dtype: .float32, using: &rng))
    let b = Var(Tensor.normal([90, 50], dtype: .float32, using: &rng))
    let y = a.matmul(b).sum()
    y.backward()
    let first = a.grad!
    y.backward()
    for i in 0..<first.count { #expect(abs(a.grad![flat: i] - 2 * first[flat: i]) < 1e-3) }
  }
}
