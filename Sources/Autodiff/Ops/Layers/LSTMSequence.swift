import CKernels

extension Var {
  /// An LSTM run over a whole sequence as one op: the hidden states of every step from the
  /// input projections of every step, the recurrent weights and the initial state.
  ///
  /// With zₜ = (Pₜ + b) + hₜ₋₁ W (Pₜ = xₜ W_x, the rows of step t; b a bias of the gates,
  /// or 0) split into the course's four gate blocks, forget, input, candidate, output:
  /// ```
  /// cₜ = σ(z_f) ⊙ cₜ₋₁ + σ(z_i) ⊙ tanh(z_g)
  /// hₜ = σ(z_o) ⊙ tanh(cₜ)
  /// ```
  /// It computes what ``lstmCellState(preactivations:cell:)`` and
  /// ``lstmHiddenState(preactivations:cell:)`` compute step by step, and that composition is
  /// its differentiable rule and its oracle. Its fast rule is backpropagation through time
  /// in one sweep, from the last step back:
  /// ```
  /// ∂hₜ = sₜ + ∂zₜ₊₁ Wᵀ
  /// ∂cₜ = ∂hₜ ⊙ o ⊙ (1 − tanh²cₜ) + ∂cₜ₊₁ ⊙ fₜ₊₁
  /// ∂zₜ = [∂cₜ ⊙ cₜ₋₁ ⊙ f(1 − f), ∂cₜ ⊙ g ⊙ i(1 − i), ∂cₜ ⊙ i ⊙ (1 − g²), ∂hₜ ⊙ tanh cₜ ⊙ o(1 − o)]
  /// ∂W = Σₜ hₜ₋₁ᵀ ∂zₜ,   ∂Pₜ = ∂zₜ,   ∂b = Σₜ Σ_rows ∂zₜ,   ∂h₀ = ∂z₁ Wᵀ,   ∂c₀ = ∂c₁ ⊙ f₁
  /// ```
  /// Doing the whole sequence in one op is what makes it fast: Wᵀ is formed once for the
  /// sweep instead of once per step, and ∂W is one large matrix product over all steps
  /// instead of one thin product per step.
  ///
  /// - Parameters:
  ///   - inputProjections: P, `[steps · n, 4h]`: time-major (rows `t·n ..< (t+1)·n` are
  ///     step t), or batch-major when `batchMajor` is true (rows `r·steps ..< (r+1)·steps`
  ///     are sequence r, one row per step).
  ///   - recurrentWeight: W, `[h, 4h]`.
  ///   - bias: b, `[4h]`, added to every row of P (nil for none). Adding it here rather
  ///     than to P saves a pass over P forward and backward.
  ///   - hidden: h₀, `[n, h]`.
  ///   - cell: c₀, `[n, h]`.
  ///   - batchMajor: Whether P and the result hold the rows of one sequence together, as a
  ///     `[n, steps, ·]` tensor does (the layout of a batch of sequences, which then needs
  ///     no transposition on the way in or out).
  /// - Returns: The hidden states, `[steps · n, h]`, in the row order of P.
  /// - Complexity: O(steps · n · h²) for the products.
  public static func lstmSequence(
    inputProjections p: Var, recurrentWeight w: Var, bias: Var? = nil, hidden h0: Var,
    cell c0: Var, batchMajor: Bool = false
  ) -> Var {
    let (n, h) = (h0.shape.first ?? 0, h0.shape.last ?? 0)
    require(
      h0.rank == 2 && c0.shape == h0.shape && w.shape == [h, 4 * h] && p.rank == 2
        && p.shape[1] == 4 * h && n > 0 && p.shape[0] % n == 0 && p.shape[0] > 0,
      "lstmSequence: projections \(p.shape), recurrent weight \(w.shape), states \(h0.shape) and \(c0.shape) do not fit [steps · n, 4h], [h, 4h], [n, h], [n, h]"
    )
    require(
      bias.map { $0.shape == [4 * h] } ?? true,
      "lstmSequence: bias \(bias?.shape ?? []) does not fit [4h] = [\(4 * h)]")
    let saved = LSTMSequenceState()
    let layout = LSTMSequenceLayout(batchMajor: batchMajor)
    return fused(
      name: "lstmSequence", args: [p, w, h0, c0] + (bias.map { [$0] } ?? []),
      forward: { args, value in
        Kernels.lstmSequence(
          args[0].value, args[1].value, args.count > 4 ? args[4].value : nil, args[2].value,
          args[3].value, layout, saved, into: &value)
      },
      backward: { args, output, s in
        Kernels.lstmSequenceBackward(
          args[0].value, args[1].value, args.count > 4 ? args[4].value : nil, args[2].value,
          args[3].value, output.value, layout, saved, upstream: s,
          args.map { $0.gradientPointer() })
      },
      composed: { args in
        let (p, w) = (args.count > 4 ? args[0] + args[4] : args[0], args[1])
        var (hidden, cell) = (args[2], args[3])
        let steps = p.shape[0] / n
        let perSequence = batchMajor ? p.reshaped([n, steps, 4 * h]) : p
        var states: [Var] = []
        for t in 0..<steps {
          let projection =
            batchMajor
            ? perSequence.sliced(along: 1, t..<(t + 1)).reshaped([n, 4 * h])
            : p.rows((t * n)..<((t + 1) * n))
          let z = projection + hidden.matmul(w)
          cell = lstmCellState(preactivations: z, cell: cell)
          hidden = lstmHiddenState(preactivations: z, cell: cell)
          states.append(hidden)
        }
        return batchMajor
          ? stack(states, along: 1).reshaped([n * steps, h]) : concatenate(states, along: 0)
      })
  }
}

/// The row order of ``Var/lstmSequence(inputProjections:recurrentWeight:bias:hidden:cell:batchMajor:)``'s
/// projections, result and their gradients.
struct LSTMSequenceLayout {
  var batchMajor: Bool

  /// The row of step t of sequence r, among n sequences of `steps` steps.
  @inline(__always)
  func row(step t: Int, sequence r: Int, n: Int, steps: Int) -> Int {
    batchMajor ? r * steps + t : t * n + r
  }
}

/// What the forward of ``Var/lstmSequence(inputProjections:recurrentWeight:bias:hidden:cell:batchMajor:)``
/// keeps for its backward, all time-major (rows `t·n ..< (t+1)·n` are step t): the activated
/// gates [f i g o], the cell states and their tanh of every step, and for a batch-major
/// result, the hidden states once more in time-major order.
final class LSTMSequenceState {
  var gates = Tensor.empty
  var cells = Tensor.empty
  var tanhCells = Tensor.empty
  var hidden = Tensor.empty
}

extension Kernels {
  static func lstmSequence(
    _ p: Tensor, _ w: Tensor, _ bias: Tensor?, _ h0: Tensor, _ c0: Tensor,
    _ layout: LSTMSequenceLayout, _ saved: LSTMSequenceState, into out: inout Tensor
  ) {
    let (rows, h) = (p.shape[0], h0.shape[1])
    out.prepare(shape: [rows, h], dtype: p.dtype)
    saved.gates.prepare(shape: p.shape, dtype: p.dtype)
    saved.cells.prepare(shape: [rows, h], dtype: p.dtype)
    saved.tanhCells.prepare(shape: [rows, h], dtype: p.dtype)
    if layout.batchMajor {
      saved.hidden.prepare(shape: [rows, h], dtype: p.dtype)
    } else {
      saved.hidden = .empty
    }
    switch p.dtype {
    case .float32: lstmSequence(Float.self, p, w, bias, h0, c0, layout, saved, &out)
    case .float64: lstmSequence(Double.self, p, w, bias, h0, c0, layout, saved, &out)
    }
  }

  /// Whether the cells of `T` run as the vectorized C kernels (`Float` above the portable
  /// level) rather than as Swift loops.
  private static func usesCellKernels<T: TensorScalar>(_: T.Type) -> Bool {
    T.self == Float.self && ComputeSettings.kernelLevel > .portable
  }

  private static func lstmSequence<T: TensorScalar>(
    _: T.Type, _ p: Tensor, _ w: Tensor, _ bias: Tensor?, _ h0: Tensor, _ c0: Tensor,
    _ layout: LSTMSequenceLayout, _ saved: LSTMSequenceState, _ out: inout Tensor
  ) {
    let (n, h) = (h0.shape[0], h0.shape[1])
    let steps = p.shape[0] / n
    let cellKernels = usesCellKernels(T.self)
    // The bias, or zeros (adding 0 changes no value).
    let b = bias ?? Tensor.zeros([4 * h], dtype: p.dtype)
    let pointers = UnsafeSendable(
      (
        p: p.pointer(as: T.self), w: w.pointer(as: T.self), b: b.pointer(as: T.self),
        h0: h0.pointer(as: T.self), c0: c0.pointer(as: T.self),
        gates: saved.gates.pointer(as: T.self), cells: saved.cells.pointer(as: T.self),
        tanhCells: saved.tanhCells.pointer(as: T.self),
        // The hidden states in time-major order, which the products read.
        hidden: layout.batchMajor ? saved.hidden.pointer(as: T.self) : out.pointer(as: T.self),
        out: out.pointer(as: T.self)
      ))
    // The sequences of a batch are independent: each thread runs the whole recurrence for
    // ranges of rows, so the small per-step products and the gate arithmetic both split.
    forEachChunk(units: n, chunk: batchChunk(n), work: steps * n * h * 4 * h) { range in
      let x = pointers.pointer
      let (first, rows) = (range.lowerBound, range.count)
      // h_{t−1} W for the rows of this range.
      let (scratch, bytes) = ScratchPool.shared.take(bytes: rows * 4 * h * MemoryLayout<T>.stride)
      defer { ScratchPool.shared.give(scratch, bytes: bytes) }
      let z = scratch.bindMemory(to: T.self, capacity: rows * 4 * h)
      for t in 0..<steps {
        let hPrevious = t == 0 ? x.h0 + first * h : x.hidden + ((t - 1) * n + first) * h
        let cPrevious = t == 0 ? x.c0 + first * h : x.cells + ((t - 1) * n + first) * h
        gemm(
          T.self, transA: false, transB: false, m: rows, n: 4 * h, k: h, a: hPrevious, lda: h,
          b: x.w, ldb: 4 * h, c: z, ldc: 4 * h, accumulate: false)
        for r in 0..<rows {
          let row = t * n + first + r
          let sourceRow = layout.row(step: t, sequence: first + r, n: n, steps: steps)
          let (zr, pr, g) = (z + r * 4 * h, x.p + sourceRow * 4 * h, x.gates + row * 4 * h)
          let (c, cOld) = (x.cells + row * h, cPrevious + r * h)
          let (tc, hr) = (x.tanhCells + row * h, x.hidden + row * h)
          if cellKernels {
            ad_lstm_cell_f32(
              h, float(zr), float(pr), float(x.b), float(g), float(cOld), float(c), float(tc),
              float(hr))
          } else {
            for j in 0..<(4 * h) { g[j] = zr[j] + (pr[j] + x.b[j]) }
            activate(g, g, 2 * h, tanh: false)
            activate(g + 2 * h, g + 2 * h, h, tanh: true)
            activate(g + 3 * h, g + 3 * h, h, tanh: false)
            for j in 0..<h { c[j] = g[j] * cOld[j] + g[h + j] * g[2 * h + j] }
            activate(c, tc, h, tanh: true)
            for j in 0..<h { hr[j] = g[3 * h + j] * tc[j] }
          }
          if layout.batchMajor {
            (x.out + sourceRow * h).update(from: hr, count: h)
          }
        }
      }
    }
    withExtendedLifetime((p, w, b, h0, c0, saved)) {}
  }

  /// The rows of the batch one thread takes at a time in the recurrence: whole register
  /// blocks of 6 rows, one range per thread, or two per thread when each still has at
  /// least 4 blocks (a thread that starts late then holds the others up by a smaller
  /// range). Batch 32 on two threads is 18 + 14 rows, 3 blocks each: ranges of 12 would
  /// leave one thread 4 blocks, and halves of 16 need 3 blocks each as well but waste a
  /// partial one.
  static func batchChunk(_ n: Int) -> Int {
    let blocks = (n + 5) / 6
    let threads = ComputeSettings.threads
    let ranges = blocks >= 8 * threads ? 2 * threads : threads
    return max(1, (blocks + ranges - 1) / ranges) * 6
  }

  /// The fast rule, from the op's output H: `gradients` are the storage of ∂P, ∂W, ∂h₀,
  /// ∂c₀ and ∂b when there is a bias (nil where no gradient is wanted), added into.
  static func lstmSequenceBackward(
    _ p: Tensor, _ w: Tensor, _ bias: Tensor?, _ h0: Tensor, _ c0: Tensor, _ output: Tensor,
    _ layout: LSTMSequenceLayout, _ saved: LSTMSequenceState, upstream s: Tensor,
    _ gradients: [UnsafeMutableRawPointer?]
  ) {
    switch p.dtype {
    case .float32:
      lstmSequenceBackward(Float.self, p, w, bias, h0, c0, output, layout, saved, s, gradients)
    case .float64:
      lstmSequenceBackward(Double.self, p, w, bias, h0, c0, output, layout, saved, s, gradients)
    }
  }

  private static func lstmSequenceBackward<T: TensorScalar>(
    _: T.Type, _ p: Tensor, _ w: Tensor, _ bias: Tensor?, _ h0: Tensor, _ c0: Tensor,
    _ output: Tensor,
    _ layout: LSTMSequenceLayout, _ saved: LSTMSequenceState, _ s: Tensor,
    _ gradients: [UnsafeMutableRawPointer?]
  ) {
    let (n, h) = (h0.shape[0], h0.shape[1])
    let (steps, rows) = (p.shape[0] / n, p.shape[0])
    let cellKernels = usesCellKernels(T.self)
    // Scratch: ∂z of every step (time-major), Wᵀ packed once for the products of every
    // step, and the running ∂h and ∂c of every row.
    // (Reused memory: a fresh allocation of this size would be new pages to fault in.)
    let packedCount = Kernels.packedCount(T.self, k: 4 * h, n: h)
    let counts = [rows * 4 * h, packedCount, n * h, n * h]
    let (scratch, bytes) = ScratchPool.shared.take(
      bytes: counts.reduce(0, +) * MemoryLayout<T>.stride)
    defer { ScratchPool.shared.give(scratch, bytes: bytes) }
    let dz = scratch.bindMemory(to: T.self, capacity: counts.reduce(0, +))
    let (wT, dh) = (dz + counts[0], dz + counts[0] + counts[1])
    let dc = dh + counts[2]
    dh.update(repeating: 0, count: n * h)
    dc.update(repeating: 0, count: n * h)
    let wp = w.pointer(as: T.self)
    Kernels.packB(T.self, transB: true, b: wp, ldb: 4 * h, k: 4 * h, n: h, into: wT)
    let hidden = layout.batchMajor ? saved.hidden.pointer(as: T.self) : output.pointer(as: T.self)

    let pointers = UnsafeSendable(
      (
        gates: saved.gates.pointer(as: T.self), cells: saved.cells.pointer(as: T.self),
        tanhCells: saved.tanhCells.pointer(as: T.self), c0: c0.pointer(as: T.self),
        upstream: s.pointer(as: T.self), w: wp, dz: dz, wT: wT, dh: dh, dc: dc,
        dp: gradients[0]?.assumingMemoryBound(to: T.self)
      ))
    // Backpropagation through time, each thread over ranges of rows of the batch.
    forEachChunk(units: n, chunk: batchChunk(n), work: steps * n * h * 4 * h) { range in
      let x = pointers.pointer
      let (first, last) = (range.lowerBound, range.upperBound)
      for t in stride(from: steps - 1, through: 0, by: -1) {
        for r in first..<last {
          let row = t * n + r
          let (g, d) = (x.gates + row * 4 * h, x.dz + row * 4 * h)
          let tc = x.tanhCells + row * h
          let sourceRow = layout.row(step: t, sequence: r, n: n, steps: steps)
          let upstream = x.upstream + sourceRow * h
          let cOld = t == 0 ? x.c0 + r * h : x.cells + (row - n) * h
          let (dhr, dcr) = (x.dh + r * h, x.dc + r * h)
          // ∂P = ∂z, added while the row is at hand.
          let dp = x.dp.map { $0 + sourceRow * 4 * h }
          if cellKernels {
            ad_lstm_cell_backward_f32(
              h, float(g), float(tc), float(cOld), float(upstream), float(dhr), float(dcr),
              float(d), dp.map { float($0) })
            continue
          }
          for j in 0..<h {
            let (f, i, candidate, o) = (g[j], g[h + j], g[2 * h + j], g[3 * h + j])
            let dHidden = upstream[j] + dhr[j]
            let dCell = dHidden * o * (1 - tc[j] * tc[j]) + dcr[j]
            d[j] = dCell * cOld[j] * f * (1 - f)
            d[h + j] = dCell * candidate * i * (1 - i)
            d[2 * h + j] = dCell * i * (1 - candidate * candidate)
            d[3 * h + j] = dHidden * tc[j] * o * (1 - o)
            dcr[j] = dCell * f
          }
          if let dp {
            for j in 0..<(4 * h) { dp[j] += d[j] }
          }
        }
        // ∂hₜ₋₁ = ∂zₜ Wᵀ for these rows.
        gemm(
          T.self, transA: false, transB: true, m: last - first, n: h, k: 4 * h,
          a: x.dz + (t * n + first) * 4 * h, lda: 4 * h, b: x.w, ldb: 4 * h,
          c: x.dh + first * h, ldc: h, accumulate: false, packedB: x.wT)
      }
    }

    if let g = gradients[1]?.assumingMemoryBound(to: T.self) {
      // ∂W = Σₜ hₜ₋₁ᵀ ∂zₜ: h₀ with the first step's ∂z, the hidden states of steps 0…T−2
      // with the ∂z of steps 1…T−1.
      gemm(
        T.self, transA: true, transB: false, m: h, n: 4 * h, k: n, a: h0.pointer(as: T.self),
        lda: h, b: dz, ldb: 4 * h, c: g, ldc: 4 * h, accumulate: true)
      if steps > 1 {
        gemm(
          T.self, transA: true, transB: false, m: h, n: 4 * h, k: (steps - 1) * n,
          a: hidden, lda: h, b: dz + n * 4 * h, ldb: 4 * h, c: g, ldc: 4 * h, accumulate: true)
      }
    }
    if let g = gradients[2]?.assumingMemoryBound(to: T.self) {
      for i in 0..<(n * h) { g[i] += dh[i] }
    }
    if let g = gradients[3]?.assumingMemoryBound(to: T.self) {
      for i in 0..<(n * h) { g[i] += dc[i] }
    }
    if bias != nil, let g = gradients[4]?.assumingMemoryBound(to: T.self) {
      for row in 0..<rows {
        let d = dz + row * 4 * h
        for j in 0..<(4 * h) { g[j] += d[j] }
      }
    }
    withExtendedLifetime((p, w, bias, h0, c0, output, s, saved)) {}
  }
}

/// A pointer to `T` (which is `Float`) as a pointer to `Float`, for the C kernels.
@inline(__always)
private func float<T>(_ pointer: UnsafePointer<T>) -> UnsafePointer<Float> {
  UnsafeRawPointer(pointer).assumingMemoryBound(to: Float.self)
}

@inline(__always)
private func float<T>(_ pointer: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Float.self)
}

extension GradientCheck {
  static let lstmSequence = GradientCheck(
    "lstmSequence", inputs: [.init([6, 8]), .init([2, 8]), .init([2, 2]), .init([2, 2])]
  ) {
    Var.lstmSequence(inputProjections: $0[0], recurrentWeight: $0[1], hidden: $0[2], cell: $0[3])
  }

  static let lstmSequenceBatchMajor = GradientCheck(
    "lstmSequence (batch-major, bias)",
    inputs: [.init([6, 8]), .init([2, 8]), .init([2, 2]), .init([2, 2]), .init([8])]
  ) {
    Var.lstmSequence(
      inputProjections: $0[0], recurrentWeight: $0[1], bias: $0[4], hidden: $0[2], cell: $0[3],
      batchMajor: true)
  }
}
