import CKernels

/// Blocking sizes: a kc × nr panel of B stays in L1 while the micro-kernel sweeps an
/// mc × kc block of A held in L2; nc columns of B are packed at a time.
private let blockK = 256
private let blockM = 120
private let blockN = 3072
/// Products with fewer multiply-adds than this use a plain loop (packing costs more).
private let smallProduct = 8 * 8 * 64
/// Products with at most this many rows read a non-transposed B without packing it.
private let readsBInPlaceBelow = 96
/// A product on several threads packs all of op(B) once for every thread, and splits its
/// rows, when op(B) packed has at most this many elements (see `sharedOperandGemm`).
private let sharedPackedBLimit = 1 << 22
/// A product with fewer columns than a register block and at least this many register
/// blocks' width of rows is computed transposed (see `narrowGemm`).
private let narrowOutputRows = 2

extension Kernels {
  /// C (+)= op(A) · op(B), where op(X) is X or Xᵀ; op(A) is m × k and op(B) is k × n.
  ///
  /// Row-major with leading dimensions lda, ldb, ldc. When `accumulate` is false, C is
  /// overwritten.
  ///
  /// - Parameters:
  ///   - bStorage: The buffer `b` points to the start of, when it is a tensor's storage: a
  ///     B used unchanged by several products is then packed once and kept
  ///     (``PackedPanels``).
  ///   - packedB: All of op(B) packed by ``packB(_:transB:b:ldb:k:n:into:)`` at the current
  ///     kernel level, read instead of B where the product packs (b, ldb and transB still
  ///     describe B, for the products too small to pack).
  static func gemm<T: TensorScalar>(
    _: T.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool, bStorage: TensorBuffer? = nil,
    packedB: UnsafePointer<T>? = nil
  ) {
    if m == 0 || n == 0 { return }
    if k == 0 || m * n * k <= smallProduct {
      naiveGemm(
        transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c,
        ldc: ldc, accumulate: accumulate)
      return
    }
    let config = GemmConfiguration.forLevel(ComputeSettings.kernelLevel)
    let (mr, nr) =
      T.self == Float.self
      ? (config.mr_f32, config.nr_f32) : (config.mr_f64, config.nr_f64)
    if packedB == nil && n < nr && m >= narrowOutputRows * nr {
      narrowGemm(
        T.self, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b,
        ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
      return
    }
    var panels: PackedPanels?
    if packedB == nil, let bStorage, ComputeSettings.reusesPackedPanels,
      k * n >= PackedPanels.minimumElements, blockN % nr == 0
    {
      let key = PackedPanels.Key(
        version: bStorage.version, transposed: transB, k: k, n: n, rowStride: ldb,
        panelWidth: nr, level: ComputeSettings.kernelLevel)
      // A product that reads B in place packs nothing, and keeps a packed copy only of a
      // large B (its rows then lie in different pages, which costs more than packing once);
      // it uses a copy that is already there.
      let packs = transB || m > readsBInPlaceBelow || k * n >= PackedPanels.largeElements
      panels = PackedPanels.panels(of: bStorage, key: key, mayPack: packs) { storage in
        packAllOfB(
          config, transB: transB, b: b, ldb: ldb, k: k, n: n, nr: nr,
          into: storage.bindMemory(to: T.self, capacity: key.k * ((n + nr - 1) / nr * nr)))
      }
    }
    let prepacked = UnsafeSendable(
      packedB.map { UnsafeMutablePointer(mutating: $0) }
        ?? panels.map { $0.pointer.assumingMemoryBound(to: T.self) })
    let packedWidth = (n + nr - 1) / nr * nr
    let threads = m * n * k < ComputeSettings.minimumParallelWork ? 1 : ComputeSettings.threads
    // Split the larger output dimension into one slice per thread, in whole register blocks.
    let splitColumns = n >= m
    let extent = splitColumns ? n : m
    let unit = splitColumns ? nr : mr
    let units = (extent + unit - 1) / unit
    let parts = max(1, min(threads, units))
    let sharesA = splitColumns && m <= blockM
    if threads > 1 && (sharesA || prepacked.pointer != nil || k * packedWidth <= sharedPackedBLimit)
    {
      sharedOperandGemm(
        T.self, config: config, mr: mr, nr: nr, transA: transA, transB: transB, m: m, n: n,
        k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate,
        prepacked: prepacked.pointer, packedWidth: packedWidth, threads: threads,
        splitColumns: sharesA)
      withExtendedLifetime(panels) {}
      return
    }
    let a = UnsafeSendable(a)
    let b = UnsafeSendable(b)
    let c = UnsafeSendable(c)
    let sendableConfig = UnsafeSendable(config)
    @Sendable func runPart(_ part: Int) {
      let first = units * part / parts * unit
      let last = min(extent, units * (part + 1) / parts * unit)
      if first >= last { return }
      if splitColumns {
        let bOffset = transB ? first * ldb : first
        blockedGemm(
          T.self, config: sendableConfig.pointer, mr: mr, nr: nr, transA: transA, transB: transB,
          m: m,
          n: last - first, k: k, a: a.pointer, lda: lda, b: b.pointer + bOffset, ldb: ldb,
          c: c.pointer + first, ldc: ldc, accumulate: accumulate,
          prepacked: prepacked.pointer, packedWidth: packedWidth, firstPanel: first / nr)
      } else {
        let aOffset = transA ? first : first * lda
        blockedGemm(
          T.self, config: sendableConfig.pointer, mr: mr, nr: nr, transA: transA, transB: transB,
          m: last - first, n: n, k: k, a: a.pointer + aOffset, lda: lda, b: b.pointer, ldb: ldb,
          c: c.pointer + first * ldc, ldc: ldc, accumulate: accumulate,
          prepacked: prepacked.pointer, packedWidth: packedWidth, firstPanel: 0)
      }
    }
    if parts == 1 {
      runPart(0)
    } else {
      let level = ComputeSettings.kernelLevel
      runOnPool(iterations: parts, threads: parts) { part in
        ComputeSettings.$kernelLevel.withValue(level) { runPart(part) }
      }
    }
    withExtendedLifetime(panels) {}
  }

  /// A product on several threads with one operand packed once for all of them: op(A),
  /// when it has at most one block of rows and the output is split by columns, else op(B),
  /// and the output split by rows. The threads pack that operand's k blocks between them,
  /// then take slices of the output, at least four per thread (rows at most a block of
  /// rows), as they become free. A thread that runs on a busy core then holds up the
  /// product by one slice at most, instead of by half of it, and no thread packs what
  /// another has packed. Each element is the same sum as in any other split.
  private static func sharedOperandGemm<T: TensorScalar>(
    _: T.Type, config: ad_gemm_config, mr: Int, nr: Int, transA: Bool, transB: Bool,
    m: Int, n: Int, k: Int, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool,
    prepacked: UnsafeMutablePointer<T>?, packedWidth: Int, threads: Int, splitColumns: Bool
  ) {
    let size = MemoryLayout<T>.stride
    let hasEdgeKernels = T.self == Float.self ? config.edge_f32 != nil : config.edge_f64 != nil
    let rowPanels = RowPanels(rows: m, mr: mr, splitsTail: hasEdgeKernels)
    let count =
      splitColumns ? rowPanels.count * mr * k : prepacked == nil ? k * packedWidth : 0
    let (scratch, scratchBytes) = ScratchPool.shared.take(bytes: max(count, 1) * size)
    defer { ScratchPool.shared.give(scratch, bytes: scratchBytes) }
    let shared = scratch.bindMemory(to: T.self, capacity: max(count, 1))
    var packedA: UnsafeMutablePointer<T>?
    var packedB = prepacked
    if splitColumns {
      // All k blocks of op(A), each laid out as blockedGemm packs one block of rows, the
      // blocks shared out over the threads.
      let (source, destination) = (UnsafeSendable(a), UnsafeSendable(shared))
      let sendableConfig = UnsafeSendable(config)
      forEachKBlock(k, threads: threads) { pc, kc in
        let into = destination.pointer + pc * rowPanels.count * mr
        packRowBlock(
          sendableConfig.pointer, rowPanels, transA: transA, a: source.pointer, lda: lda, i0: 0,
          p0: pc, kc: kc, mr: mr, into: into)
      }
      packedA = shared
    } else if packedB == nil {
      // All of op(B), its k blocks shared out over the threads.
      let (source, destination) = (UnsafeSendable(b), UnsafeSendable(shared))
      let sendableConfig = UnsafeSendable(config)
      forEachKBlock(k, threads: threads) { pc, kc in
        packB(
          sendableConfig.pointer, transB: transB, b: source.pointer, ldb: ldb, p0: pc, j0: 0,
          kc: kc, nc: n, nr: nr, into: destination.pointer + pc * packedWidth)
      }
      packedB = shared
    }
    let extent = splitColumns ? n : m
    let unit = splitColumns ? nr : mr
    let units = (extent + unit - 1) / unit
    // At least four slices per thread, a row slice at most one block of rows (so more
    // slices for a tall product), and, when the output has that many units, a whole number
    // of slices per thread with sizes that differ by one unit at most: slices of unequal
    // size leave one thread working alone at the end.
    let blocks = splitColumns ? 1 : (units + blockM / mr - 1) / (blockM / mr)
    let wanted = max(4 * threads, blocks)
    let slices = min(units, (wanted + threads - 1) / threads * threads)
    let (sa, sb, sc) = (UnsafeSendable(a), UnsafeSendable(b), UnsafeSendable(c))
    let (sharedA, sharedB) = (UnsafeSendable(packedA), UnsafeSendable(packedB))
    let sendableConfig = UnsafeSendable(config)
    let level = ComputeSettings.kernelLevel
    runOnPool(iterations: slices, threads: threads) { slice in
      let first = units * slice / slices * unit
      let last = min(extent, units * (slice + 1) / slices * unit)
      ComputeSettings.$kernelLevel.withValue(level) {
        if splitColumns {
          blockedGemm(
            T.self, config: sendableConfig.pointer, mr: mr, nr: nr, transA: transA,
            transB: transB, m: m, n: last - first, k: k, a: sa.pointer, lda: lda,
            b: sb.pointer + (transB ? first * ldb : first), ldb: ldb, c: sc.pointer + first,
            ldc: ldc, accumulate: accumulate, prepacked: sharedB.pointer,
            packedWidth: packedWidth, firstPanel: first / nr, packedA: sharedA.pointer)
        } else {
          blockedGemm(
            T.self, config: sendableConfig.pointer, mr: mr, nr: nr, transA: transA,
            transB: transB, m: last - first, n: n, k: k,
            a: sa.pointer + (transA ? first : first * lda), lda: lda, b: sb.pointer, ldb: ldb,
            c: sc.pointer + first * ldc, ldc: ldc, accumulate: accumulate,
            prepacked: sharedB.pointer, packedWidth: packedWidth, firstPanel: 0)
        }
      }
    }
  }

  /// Runs `body(pc, kc)` for each block of `blockK` rows of k (the last may be shorter),
  /// the blocks shared out over `threads` threads.
  private static func forEachKBlock(
    _ k: Int, threads: Int, _ body: @Sendable (_ pc: Int, _ kc: Int) -> Void
  ) {
    runOnPool(iterations: (k + blockK - 1) / blockK, threads: threads) { block in
      body(block * blockK, min(blockK, k - block * blockK))
    }
  }

  /// C (+)= op(A) · op(B) for a C with fewer columns than a register block and many rows
  /// (a classifier's scores for a few classes, and their gradients), computed as
  /// Cᵀ = op(B)ᵀ · op(A)ᵀ: then every lane of the register block holds a result, where the
  /// direct product fills n of nr. Each element is the same sequence of multiply-adds in
  /// either orientation (and starts from C's value when accumulating), so the result is
  /// the same to the bit.
  private static func narrowGemm<T: TensorScalar>(
    _: T.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
  ) {
    let bytes = m * n * MemoryLayout<T>.stride
    let (scratch, scratchBytes) = ScratchPool.shared.take(bytes: bytes)
    defer { ScratchPool.shared.give(scratch, bytes: scratchBytes) }
    let cT = scratch.bindMemory(to: T.self, capacity: m * n)
    if accumulate {
      for i in 0..<m {
        for j in 0..<n { cT[j * m + i] = c[i * ldc + j] }
      }
    }
    gemm(
      T.self, transA: !transB, transB: !transA, m: n, n: m, k: k, a: b, lda: ldb, b: a,
      ldb: lda, c: cT, ldc: m, accumulate: accumulate)
    for i in 0..<m {
      for j in 0..<n { c[i * ldc + j] = cT[j * m + i] }
    }
  }

  /// The number of elements op(B), k × n, takes when packed by
  /// ``packB(_:transB:b:ldb:k:n:into:)`` at the current kernel level.
  static func packedCount<T: TensorScalar>(_: T.Type, k: Int, n: Int) -> Int {
    let config = GemmConfiguration.forLevel(ComputeSettings.kernelLevel)
    let nr = T.self == Float.self ? config.nr_f32 : config.nr_f64
    return k * ((n + nr - 1) / nr * nr)
  }

  /// Packs all of op(B), k × n, in the layout of ``PackedPanels`` for the current kernel
  /// level, for products that pass it as `packedB`; `packed` holds
  /// ``packedCount(_:k:n:)`` elements.
  static func packB<T: TensorScalar>(
    _: T.Type, transB: Bool, b: UnsafePointer<T>, ldb: Int, k: Int, n: Int,
    into packed: UnsafeMutablePointer<T>
  ) {
    let config = GemmConfiguration.forLevel(ComputeSettings.kernelLevel)
    let nr = T.self == Float.self ? config.nr_f32 : config.nr_f64
    packAllOfB(config, transB: transB, b: b, ldb: ldb, k: k, n: n, nr: nr, into: packed)
  }

  /// Packs all of op(B), k × n, in the layout of ``PackedPanels``.
  private static func packAllOfB<T: TensorScalar>(
    _ config: ad_gemm_config, transB: Bool, b: UnsafePointer<T>, ldb: Int, k: Int, n: Int,
    nr: Int, into packed: UnsafeMutablePointer<T>
  ) {
    let width = (n + nr - 1) / nr * nr
    var pc = 0
    while pc < k {
      let kc = min(blockK, k - pc)
      packB(
        config, transB: transB, b: b, ldb: ldb, p0: pc, j0: 0, kc: kc, nc: n, nr: nr,
        into: packed + pc * width)
      pc += kc
    }
  }

  /// A product small enough that packing costs more than it saves: each element of C is
  /// one dot product, summed in the order p = 0, 1, …, k − 1 and starting from C's value
  /// when accumulating (`ad_small_gemm_f32`/`_f64`, which sum a row of C at once in a
  /// vector's lanes, the same sums lane by lane).
  private static func naiveGemm<T: TensorScalar>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
  ) {
    let (ta, tb, add): (Int32, Int32, Int32) = (transA ? 1 : 0, transB ? 1 : 0, accumulate ? 1 : 0)
    if T.self == Float.self {
      ad_small_gemm_f32(
        ta, tb, m, n, k, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda,
        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb,
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc, add)
    } else {
      ad_small_gemm_f64(
        ta, tb, m, n, k, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), lda,
        UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb,
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc, add)
    }
  }

  private static func blockedGemm<T: TensorScalar>(
    _: T.Type, config: ad_gemm_config, mr: Int, nr: Int, transA: Bool, transB: Bool,
    m: Int, n: Int, k: Int, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool,
    prepacked: UnsafeMutablePointer<T>?, packedWidth: Int, firstPanel: Int,
    packedA sharedA: UnsafeMutablePointer<T>? = nil
  ) {
    let size = MemoryLayout<T>.stride
    let mcMax = min(blockM, (m + mr - 1) / mr * mr)
    let ncMax = min(blockN, (n + nr - 1) / nr * nr)
    let kcMax = min(blockK, k)
    // In a thin block, room for one more panel of A than the rows need (a split tail, see
    // RowPanels).
    let aBytes = (mcMax + (mcMax <= 8 * mr ? mr : 0)) * kcMax * size
    let bBytes = ncMax * kcMax * size
    let tileBytes = mr * nr * size
    let (scratch, scratchBytes) = ScratchPool.shared.take(bytes: aBytes + bBytes + tileBytes + 128)
    defer { ScratchPool.shared.give(scratch, bytes: scratchBytes) }
    let aScratch = scratch.bindMemory(to: T.self, capacity: mcMax * kcMax)
    let packedB = (scratch + aBytes).bindMemory(to: T.self, capacity: ncMax * kcMax)
    let tile = (scratch + aBytes + bBytes).bindMemory(to: T.self, capacity: mr * nr)

    var jc = 0
    while jc < n {
      let nc = min(blockN, n - jc)
      var pc = 0
      while pc < k {
        let kc = min(blockK, k - pc)
        // On the first k block, overwrite C unless the caller accumulates.
        let addToC = accumulate || pc > 0
        // With few rows of A, each B panel is used only a few times and packing it costs as
        // much as the product: a non-transposed B is then read in place by the micro-kernel
        // (its rows are contiguous), and only a last partial panel is packed.
        let packsAllOfB = transB || m > readsBInPlaceBelow || prepacked != nil
        // This block's panels, already packed (PackedPanels), or packed now.
        let blockPanels =
          prepacked.map { $0 + pc * packedWidth + (firstPanel + jc / nr) * kc * nr }
          ?? packedB
        if prepacked != nil {
          // Packed once for every product with this B.
        } else if packsAllOfB {
          packB(
            config, transB: transB, b: b, ldb: ldb, p0: pc, j0: jc, kc: kc, nc: nc, nr: nr,
            into: packedB)
        } else if nc % nr != 0 {
          let first = nc / nr * nr
          packB(
            config, transB: false, b: b, ldb: ldb, p0: pc, j0: jc + first, kc: kc,
            nc: nc - first, nr: nr, into: packedB + (first / nr) * kc * nr)
        }
        var ic = 0
        while ic < m {
          let mc = min(blockM, m - ic)
          let hasEdgeKernels =
            T.self == Float.self ? config.edge_f32 != nil : config.edge_f64 != nil
          let rowPanels = RowPanels(rows: mc, mr: mr, splitsTail: hasEdgeKernels)
          // All of op(A) packed already (one block of rows, see sharedOperandGemm), or this
          // block packed now.
          let packedA = sharedA.map { $0 + pc * rowPanels.count * mr } ?? aScratch
          if sharedA == nil {
            packRowBlock(
              config, rowPanels, transA: transA, a: a, lda: lda, i0: ic, p0: pc, kc: kc, mr: mr,
              into: packedA)
          }
          // One or two rows: several panels of B per call (thin kernels), while whole.
          let thinPanels =
            rowPanels.count == 1 && mc <= 2 && hasThinKernel(config, T.self)
            ? ad_gemm_thin_panels(mc) : 0
          var jr = 0
          while jr < nc {
            if thinPanels > 0 && jr + thinPanels * nr <= nc {
              let (bPanel, bStride, panelStride) =
                packsAllOfB
                ? (blockPanels + (jr / nr) * kc * nr, nr, kc * nr)
                : (UnsafeMutablePointer(mutating: b + pc * ldb + jc + jr), ldb, nr)
              thinKernel(
                config, kc, packedA, bPanel, bStride, panelStride, c + ic * ldc + jc + jr, ldc,
                addToC, mc)
              jr += thinPanels * nr
              continue
            }
            let nEff = min(nr, nc - jr)
            let inPlace = !packsAllOfB && nEff == nr
            let bPanel =
              inPlace
              ? UnsafeMutablePointer(mutating: b + pc * ldb + jc + jr)
              : blockPanels + (jr / nr) * kc * nr
            let bStride = inPlace ? ldb : nr
            for q in 0..<rowPanels.count {
              let (ir, mEff) = rowPanels[q]
              let aPanel = packedA + q * kc * mr
              let cTile = c + (ic + ir) * ldc + jc + jr
              if mEff == mr && nEff == nr {
                microKernel(config, kc, aPanel, bPanel, bStride, cTile, ldc, addToC)
              } else if edgeKernel(
                config, T.self, kc, aPanel, bPanel, bStride, cTile, ldc, addToC, mEff, nEff)
              {
                // Written in place with masked stores.
              } else {
                microKernel(config, kc, aPanel, bPanel, bStride, tile, nr, false)
                for i in 0..<mEff {
                  for j in 0..<nEff {
                    cTile[i * ldc + j] = (addToC ? cTile[i * ldc + j] : 0) + tile[i * nr + j]
                  }
                }
              }
            }
            jr += nr
          }
          ic += mc
        }
        pc += kc
      }
      jc += nc
    }
  }

  /// The row panels of an mc × kc block of A: whole panels of mr rows, and the rows left
  /// over. A remainder of 1 or 2 rows runs at a fraction of the kernel's speed (2 rows keep
  /// 4 accumulators busy where the kernel needs 8 or more to hide the latency of its
  /// multiply-adds), so in a thin block (at most 8 panels, where that remainder is a larger
  /// part of the work) with edge kernels, the last whole panel and such a remainder become
  /// two panels of 4 and 3 or 4 rows (32 rows: 6 + 6 + 6 + 6 + 4 + 4 instead of
  /// 6 + 6 + 6 + 6 + 6 + 2). Each row's sum runs in the same order in any panel, so the
  /// result does not change.
  struct RowPanels {
    /// The panels of mr rows at the start.
    let whole: Int
    /// All panels.
    let count: Int
    private let rows: Int
    private let mr: Int

    init(rows: Int, mr: Int, splitsTail: Bool) {
      self.rows = rows
      self.mr = mr
      let remainder = rows % mr
      if splitsTail && mr == 6 && rows > mr && rows <= 8 * mr && (remainder == 1 || remainder == 2)
      {
        whole = rows / mr - 1
        count = whole + 2
      } else {
        whole = rows / mr
        count = (rows + mr - 1) / mr
      }
    }

    /// The rows of the whole panels.
    var wholeRows: Int { whole * mr }

    /// The first row and the number of rows of panel q.
    subscript(q: Int) -> (start: Int, rows: Int) {
      if q < whole { return (q * mr, mr) }
      if count == whole + 2 {
        return q == whole ? (whole * mr, 4) : (whole * mr + 4, rows - whole * mr - 4)
      }
      return (q * mr, rows - q * mr)
    }
  }

  @inline(__always)
  private static func microKernel<T: TensorScalar>(
    _ config: ad_gemm_config, _ kc: Int, _ a: UnsafeMutablePointer<T>,
    _ b: UnsafeMutablePointer<T>, _ ldb: Int, _ c: UnsafeMutablePointer<T>, _ ldc: Int,
    _ accumulate: Bool
  ) {
    if T.self == Float.self {
      config.kernel_f32(
        kc, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb,
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc, accumulate ? 1 : 0)
    } else {
      config.kernel_f64(
        kc, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self),
        UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb,
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc, accumulate ? 1 : 0)
    }
  }

  /// Whether the CPU has thin kernels for `T` (see `ad_gemm_thin_kernel_f32`).
  @inline(__always)
  private static func hasThinKernel<T: TensorScalar>(_ config: ad_gemm_config, _: T.Type) -> Bool {
    T.self == Float.self ? config.thin_f32 != nil : config.thin_f64 != nil
  }

  /// Runs the CPU's thin kernel on m ≤ 2 rows and ``ad_gemm_thin_panels(m)`` whole panels
  /// of B, panel q at b + q · panelStride.
  @inline(__always)
  private static func thinKernel<T: TensorScalar>(
    _ config: ad_gemm_config, _ kc: Int, _ a: UnsafeMutablePointer<T>,
    _ b: UnsafeMutablePointer<T>, _ ldb: Int, _ panelStride: Int, _ c: UnsafeMutablePointer<T>,
    _ ldc: Int, _ accumulate: Bool, _ m: Int
  ) {
    if T.self == Float.self {
      config.thin_f32(
        kc, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb, panelStride,
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc, accumulate ? 1 : 0, m)
    } else {
      config.thin_f64(
        kc, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self),
        UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb, panelStride,
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc, accumulate ? 1 : 0,
        m)
    }
  }

  /// Runs the CPU's edge kernel on a partial tile, if it has one; false otherwise.
  @inline(__always)
  private static func edgeKernel<T: TensorScalar>(
    _ config: ad_gemm_config, _: T.Type, _ kc: Int, _ a: UnsafeMutablePointer<T>,
    _ b: UnsafeMutablePointer<T>, _ ldb: Int, _ c: UnsafeMutablePointer<T>, _ ldc: Int,
    _ accumulate: Bool, _ m: Int, _ n: Int
  ) -> Bool {
    if T.self == Float.self, let edge = config.edge_f32 {
      edge(
        kc, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb,
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc, accumulate ? 1 : 0, m,
        n)
      return true
    }
    if T.self == Double.self, let edge = config.edge_f64 {
      edge(
        kc, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self),
        UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb,
        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc, accumulate ? 1 : 0, m,
        n)
      return true
    }
    return false
  }

  /// Packs the row panels of a block of op(A) (rows from i0, columns p0..<p0+kc), panel q
  /// at `packed` + q · kc · mr: the whole panels at once, then each panel of the tail.
  private static func packRowBlock<T: TensorScalar>(
    _ config: ad_gemm_config, _ rowPanels: RowPanels, transA: Bool, a: UnsafePointer<T>,
    lda: Int, i0: Int, p0: Int, kc: Int, mr: Int, into packed: UnsafeMutablePointer<T>
  ) {
    if rowPanels.whole > 0 {
      packA(
        config, transA: transA, a: a, lda: lda, i0: i0, p0: p0, mc: rowPanels.wholeRows, kc: kc,
        mr: mr, into: packed)
    }
    for q in rowPanels.whole..<rowPanels.count {
      let (start, rows) = rowPanels[q]
      packA(
        config, transA: transA, a: a, lda: lda, i0: i0 + start, p0: p0, mc: rows, kc: kc, mr: mr,
        into: packed + q * kc * mr)
    }
  }

  /// Packs rows i0..<i0+mc, columns p0..<p0+kc of op(A) into panels of mr rows, each stored
  /// column by column; rows past the end are zero.
  private static func packA<T: TensorScalar>(
    _ config: ad_gemm_config, transA: Bool, a: UnsafePointer<T>, lda: Int, i0: Int, p0: Int,
    mc: Int, kc: Int, mr: Int, into packed: UnsafeMutablePointer<T>
  ) {
    // Float panels of 6 rows: the CPU's vectorized packing, when it has one.
    if T.self == Float.self, mr == 6, let pack = config.pack_a_f32 {
      let start = transA ? a + (p0 * lda + i0) : a + (i0 * lda + p0)
      pack(
        transA ? 1 : 0, UnsafeRawPointer(start).assumingMemoryBound(to: Float.self), lda, mc, kc,
        UnsafeMutableRawPointer(packed).assumingMemoryBound(to: Float.self))
      return
    }
    var panel = 0
    while panel * mr < mc {
      let out = packed + panel * kc * mr
      let rows = min(mr, mc - panel * mr)
      let base = i0 + panel * mr
      if transA {
        for p in 0..<kc {
          let src = a + (p0 + p) * lda + base
          let dst = out + p * mr
          for i in 0..<rows { dst[i] = src[i] }
          for i in rows..<mr { dst[i] = 0 }
        }
      } else if rows == mr {
        // A full panel: its mr rows read side by side, the panel written in order (a
        // strided write per element costs several times more when k is small).
        let src = a + (base &* lda &+ p0)
        for p in 0..<kc {
          let dst = out + p &* mr
          var element = src + p
          for i in 0..<mr {
            dst[i] = element.pointee
            element += lda
          }
        }
      } else {
        for i in 0..<mr {
          if i < rows {
            let src = a + (base + i) * lda + p0
            for p in 0..<kc { out[p * mr + i] = src[p] }
          } else {
            for p in 0..<kc { out[p * mr + i] = 0 }
          }
        }
      }
      panel += 1
    }
  }

  /// Packs rows p0..<p0+kc, columns j0..<j0+nc of op(B) into panels of nr columns, each
  /// stored row by row; columns past the end are zero.
  private static func packB<T: TensorScalar>(
    _ config: ad_gemm_config, transB: Bool, b: UnsafePointer<T>, ldb: Int, p0: Int, j0: Int,
    kc: Int, nc: Int, nr: Int, into packed: UnsafeMutablePointer<T>
  ) {
    if T.self == Float.self, let pack = config.pack_b_f32 {
      let start = transB ? b + (j0 * ldb + p0) : b + (p0 * ldb + j0)
      pack(
        transB ? 1 : 0, UnsafeRawPointer(start).assumingMemoryBound(to: Float.self), ldb, kc, nc,
        nr, UnsafeMutableRawPointer(packed).assumingMemoryBound(to: Float.self))
      return
    }
    var panel = 0
    while panel * nr < nc {
      let out = packed + panel * kc * nr
      let cols = min(nr, nc - panel * nr)
      let base = j0 + panel * nr
      if transB {
        for j in 0..<nr {
          if j < cols {
            let src = b + (base + j) * ldb + p0
            for p in 0..<kc { out[p * nr + j] = src[p] }
          } else {
            for p in 0..<kc { out[p * nr + j] = 0 }
          }
        }
      } else {
        for p in 0..<kc {
          let src = b + (p0 + p) * ldb + base
          let dst = out + p * nr
          for j in 0..<cols { dst[j] = src[j] }
          for j in cols..<nr { dst[j] = 0 }
        }
      }
      panel += 1
    }
  }
}

/// A pointer handed to worker threads; the caller keeps the memory alive and the threads
/// write disjoint parts.
struct UnsafeSendable<P>: @unchecked Sendable {
  let pointer: P
  init(_ pointer: P) { self.pointer = pointer }
}
