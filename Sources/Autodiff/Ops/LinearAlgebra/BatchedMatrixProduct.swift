/// How a batched product op(A) · op(B) pairs the matrices of its operands: the broadcast
/// leading shape and, for each product, the matrix of A and of B it uses.
///
/// Computed from the operands' shapes at every evaluation, so that a re-evaluated graph
/// follows new shapes.
struct BatchedProductLayout: Sendable {
  /// The broadcast leading axes of the result.
  let batchShape: [Int]
  /// For each product (in row-major order over `batchShape`), the index of its matrix in A
  /// and in B.
  let aIndex: [Int]
  let bIndex: [Int]
  /// The matrices as stored: rows and columns of each matrix of A and of B.
  let a: (rows: Int, columns: Int)
  let b: (rows: Int, columns: Int)
  /// op(A) is m × k, op(B) is k × n.
  let m: Int
  let n: Int
  let k: Int
  /// How many matrices each operand holds.
  let aCount: Int
  let bCount: Int

  init(_ aShape: [Int], _ bShape: [Int], _ ta: Bool, _ tb: Bool, op: String) {
    let (aLead, bLead) = (Array(aShape.dropLast(2)), Array(bShape.dropLast(2)))
    batchShape = broadcastShape(aLead, bLead, op: op)
    a = (aShape[aShape.count - 2], aShape[aShape.count - 1])
    b = (bShape[bShape.count - 2], bShape[bShape.count - 1])
    (m, k) = ta ? (a.columns, a.rows) : (a.rows, a.columns)
    n = tb ? b.rows : b.columns
    aCount = aLead.reduce(1, *)
    bCount = bLead.reduce(1, *)
    let count = batchShape.reduce(1, *)
    let (aStrides, bStrides) = (
      broadcastStrides(aLead, to: batchShape), broadcastStrides(bLead, to: batchShape)
    )
    var aIndex = [Int](repeating: 0, count: count)
    var bIndex = [Int](repeating: 0, count: count)
    var position = [Int](repeating: 0, count: batchShape.count)
    var (aOffset, bOffset) = (0, 0)
    for i in 0..<count {
      aIndex[i] = aOffset
      bIndex[i] = bOffset
      var axis = batchShape.count - 1
      while axis >= 0 {
        position[axis] += 1
        aOffset += aStrides[axis]
        bOffset += bStrides[axis]
        if position[axis] < batchShape[axis] { break }
        aOffset -= aStrides[axis] * batchShape[axis]
        bOffset -= bStrides[axis] * batchShape[axis]
        position[axis] = 0
        axis -= 1
      }
    }
    self.aIndex = aIndex
    self.bIndex = bIndex
  }

  /// The number of products.
  var count: Int { aIndex.count }

  /// The products that use each matrix of an operand: `groups(aIndex, aCount)[j]` lists
  /// the products whose gradient flows into matrix j of A.
  static func groups(_ index: [Int], _ count: Int) -> [[Int]] {
    var groups = [[Int]](repeating: [], count: count)
    for (i, j) in index.enumerated() { groups[j].append(i) }
    return groups
  }
}

extension Kernels {
  /// value = the batched product op(a) · op(b) (see
  /// ``Var/matmul(_:transposingSelf:transposingOther:)``): one packed product per pair of
  /// matrices, the pairs split over threads.
  static func batchedMatrixProduct(
    _ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, into value: inout Tensor, op: String
  ) {
    let layout = BatchedProductLayout(a.shape, b.shape, ta, tb, op: op)
    value.prepare(shape: layout.batchShape + [layout.m, layout.n], dtype: a.dtype)
    switch a.dtype {
    case .float32: batchedMatrixProduct(Float.self, a, b, ta, tb, layout, &value)
    case .float64: batchedMatrixProduct(Double.self, a, b, ta, tb, layout, &value)
    }
  }

  private static func batchedMatrixProduct<T: TensorScalar>(
    _: T.Type, _ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, _ layout: BatchedProductLayout,
    _ value: inout Tensor
  ) {
    let pointers = UnsafeSendable(
      (a: a.pointer(as: T.self), b: b.pointer(as: T.self), c: value.pointer(as: T.self)))
    let l = layout
    let (aSize, bSize, cSize) = (l.a.rows * l.a.columns, l.b.rows * l.b.columns, l.m * l.n)
    forEachPart(units: l.count, work: l.count * l.m * l.n * l.k) { part, parts in
      let x = pointers.pointer
      for i in (l.count * part / parts)..<(l.count * (part + 1) / parts) {
        gemm(
          T.self, transA: ta, transB: tb, m: l.m, n: l.n, k: l.k, a: x.a + l.aIndex[i] * aSize,
          lda: l.a.columns, b: x.b + l.bIndex[i] * bSize, ldb: l.b.columns, c: x.c + i * cSize,
          ldc: l.n, accumulate: false)
      }
    }
    withExtendedLifetime((a, b)) {}
  }

  /// The fast rule of the batched product: adds each product's rule into the gradient of
  /// the matrices it used (`ga`, `gb`: the operands' gradient storage, or nil).
  static func batchedMatrixProductBackward(
    _ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, upstream s: Tensor,
    _ ga: UnsafeMutableRawPointer?, _ gb: UnsafeMutableRawPointer?
  ) {
    let layout = BatchedProductLayout(a.shape, b.shape, ta, tb, op: "matmul")
    switch a.dtype {
    case .float32: batchedMatrixProductBackward(Float.self, a, b, ta, tb, layout, s, ga, gb)
    case .float64: batchedMatrixProductBackward(Double.self, a, b, ta, tb, layout, s, ga, gb)
    }
  }

  private static func batchedMatrixProductBackward<T: TensorScalar>(
    _: T.Type, _ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool, _ l: BatchedProductLayout,
    _ s: Tensor, _ ga: UnsafeMutableRawPointer?, _ gb: UnsafeMutableRawPointer?
  ) {
    typealias Matrix = (pointer: UnsafeMutablePointer<T>, rows: Int, columns: Int)
    /// c += op(x) · op(y), for matrices stored row-major.
    @Sendable func addProduct(
      _ x: Matrix, _ tx: Bool, _ y: Matrix, _ ty: Bool, into c: UnsafeMutablePointer<T>
    ) {
      let (m, k) = tx ? (x.columns, x.rows) : (x.rows, x.columns)
      let n = ty ? y.rows : y.columns
      gemm(
        T.self, transA: tx, transB: ty, m: m, n: n, k: k, a: x.pointer, lda: x.columns,
        b: y.pointer, ldb: y.columns, c: c, ldc: n, accumulate: true)
    }
    let pointers = UnsafeSendable(
      (
        a: a.pointer(as: T.self), b: b.pointer(as: T.self), s: s.pointer(as: T.self),
        ga: ga?.assumingMemoryBound(to: T.self), gb: gb?.assumingMemoryBound(to: T.self)
      ))
    let (aSize, bSize, sSize) = (l.a.rows * l.a.columns, l.b.rows * l.b.columns, l.m * l.n)
    let work = l.count * l.m * l.n * l.k
    if ga != nil {
      // Each thread owns some matrices of ∂A and adds the rule of every product using them.
      let groups = BatchedProductLayout.groups(l.aIndex, l.aCount)
      forEachPart(units: l.aCount, work: work) { part, parts in
        let x = pointers.pointer
        for j in (l.aCount * part / parts)..<(l.aCount * (part + 1) / parts) {
          for i in groups[j] {
            let bm: Matrix = (x.b + l.bIndex[i] * bSize, l.b.rows, l.b.columns)
            let sm: Matrix = (x.s + i * sSize, l.m, l.n)
            let g = x.ga! + j * aSize
            switch (ta, tb) {
            case (false, false): addProduct(sm, false, bm, true, into: g)
            case (false, true): addProduct(sm, false, bm, false, into: g)
            case (true, false): addProduct(bm, false, sm, true, into: g)
            case (true, true): addProduct(bm, true, sm, true, into: g)
            }
          }
        }
      }
    }
    if gb != nil {
      let groups = BatchedProductLayout.groups(l.bIndex, l.bCount)
      forEachPart(units: l.bCount, work: work) { part, parts in
        let x = pointers.pointer
        for j in (l.bCount * part / parts)..<(l.bCount * (part + 1) / parts) {
          for i in groups[j] {
            let am: Matrix = (x.a + l.aIndex[i] * aSize, l.a.rows, l.a.columns)
            let sm: Matrix = (x.s + i * sSize, l.m, l.n)
            let g = x.gb! + j * bSize
            switch (ta, tb) {
            case (false, false): addProduct(am, true, sm, false, into: g)
            case (false, true): addProduct(sm, true, am, false, into: g)
            case (true, false): addProduct(am, false, sm, false, into: g)
            case (true, true): addProduct(sm, true, am, true, into: g)
            }
          }
        }
      }
    }
    withExtendedLifetime((a, b, s)) {}
  }
}
