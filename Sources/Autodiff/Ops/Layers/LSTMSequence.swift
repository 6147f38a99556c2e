extension Var {
  /// An LSTM run over a whole sequence as one op: the hidden states of every step from the
  /// input projections of every step, the recurrent weights and the initial state.
  ///
  /// With zₜ = Pₜ + hₜ₋₁ W (Pₜ = xₜ W_x + b, the rows of step t) split into the course's
  /// four gate blocks, forget, input, candidate, output:
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
  /// ∂W = Σₜ hₜ₋₁ᵀ ∂zₜ,   ∂Pₜ = ∂zₜ,   ∂h₀ = ∂z₁ Wᵀ,   ∂c₀ = ∂c₁ ⊙ f₁
  /// ```
  /// Doing the whole sequence in one op is what makes it fast: Wᵀ is formed once for the
  /// sweep instead of once per step, and ∂W is one large matrix product over all steps
  /// instead of one thin product per step.
  ///
  /// - Parameters:
  ///   - inputProjections: P, `[steps · n, 4h]`, time-major: rows `t·n ..< (t+1)·n` are
  ///     step t.
  ///   - recurrentWeight: W, `[h, 4h]`.
  ///   - hidden: h₀, `[n, h]`.
  ///   - cell: c₀, `[n, h]`.
  /// - Returns: The hidden states, `[steps · n, h]`, time-major like P.
  /// - Complexity: O(steps · n · h²) for the products.
  public static func lstmSequence(
    inputProjections p: Var, recurrentWeight w: Var, hidden h0: Var, cell c0: Var
  ) -> Var {
    let (n, h) = (h0.shape.first ?? 0, h0.shape.last ?? 0)
    require(
      h0.rank == 2 && c0.shape == h0.shape && w.shape == [h, 4 * h] && p.rank == 2
        && p.shape[1] == 4 * h && n > 0 && p.shape[0] % n == 0 && p.shape[0] > 0,
      "lstmSequence: projections \(p.shape), recurrent weight \(w.shape), states \(h0.shape) and \(c0.shape) do not fit [steps · n, 4h], [h, 4h], [n, h], [n, h]"
    )
    let saved = LSTMSequenceState()
    return fused(
      name: "lstmSequence", args: [p, w, h0, c0],
      forward: { args, value in
        Kernels.lstmSequence(
          args[0].value, args[1].value, args[2].value, args[3].value, saved, into: &value)
      },
      backward: { args, output, s in
        Kernels.lstmSequenceBackward(
          args[0].value, args[1].value, args[2].value, args[3].value, output.value, saved,
          upstream: s, args.map { $0.gradientPointer() })
      },
      composed: { args in
        let (p, w) = (args[0], args[1])
        var (hidden, cell) = (args[2], args[3])
        var states: [Var] = []
        for t in 0..<(p.shape[0] / n) {
          let z = p.rows((t * n)..<((t + 1) * n)) + hidden.matmul(w)
          cell = lstmCellState(preactivations: z, cell: cell)
          hidden = lstmHiddenState(preactivations: z, cell: cell)
          states.append(hidden)
        }
        return concatenate(states, along: 0)
      })
  }
}

/// What the forward of ``Var/lstmSequence(inputProjections:recurrentWeight:hidden:cell:)``
/// keeps for its backward: the activated gates [f i g o] and the cell states and their
/// tanh, of every step.
final class LSTMSequenceState {
  var gates = Tensor.empty
  var cells = Tensor.empty
  var tanhCells = Tensor.empty
}

extension Kernels {
  static func lstmSequence(
    _ p: Tensor, _ w: Tensor, _ h0: Tensor, _ c0: Tensor, _ saved: LSTMSequenceState,
    into out: inout Tensor
  ) {
    let (rows, h) = (p.shape[0], h0.shape[1])
    out.prepare(shape: [rows, h], dtype: p.dtype)
    saved.gates.prepare(shape: p.shape, dtype: p.dtype)
    saved.cells.prepare(shape: [rows, h], dtype: p.dtype)
    saved.tanhCells.prepare(shape: [rows, h], dtype: p.dtype)
    switch p.dtype {
    case .float32: lstmSequence(Float.self, p, w, h0, c0, saved, &out)
    case .float64: lstmSequence(Double.self, p, w, h0, c0, saved, &out)
    }
  }

  private static func lstmSequence<T: TensorScalar>(
    _: T.Type, _ p: Tensor, _ w: Tensor, _ h0: Tensor, _ c0: Tensor, _ saved: LSTMSequenceState,
    _ out: inout Tensor
  ) {
    let (n, h) = (h0.shape[0], h0.shape[1])
    let steps = p.shape[0] / n
    let pointers = UnsafeSendable(
      (
        p: p.pointer(as: T.self), w: w.pointer(as: T.self), h0: h0.pointer(as: T.self),
        c0: c0.pointer(as: T.self), gates: saved.gates.pointer(as: T.self),
        cells: saved.cells.pointer(as: T.self), tanhCells: saved.tanhCells.pointer(as: T.self),
        hidden: out.pointer(as: T.self)
      ))
    // The sequences of a batch are independent: each thread runs the whole recurrence for
    // ranges of rows, so the small per-step products and the gate arithmetic both split.
    forEachChunk(units: n, chunk: batchChunk(n), work: steps * n * h * 4 * h) { range in
      let x = pointers.pointer
      let (first, rows) = (range.lowerBound, range.count)
      for t in 0..<steps {
        let z = x.gates + (t * n + first) * 4 * h
        z.update(from: x.p + (t * n + first) * 4 * h, count: rows * 4 * h)
        let hPrevious = t == 0 ? x.h0 + first * h : x.hidden + ((t - 1) * n + first) * h
        let cPrevious = t == 0 ? x.c0 + first * h : x.cells + ((t - 1) * n + first) * h
        gemm(
          T.self, transA: false, transB: false, m: rows, n: 4 * h, k: h, a: hPrevious, lda: h,
          b: x.w, ldb: 4 * h, c: z, ldc: 4 * h, accumulate: true)
        for r in 0..<rows {
          let g = z + r * 4 * h
          activate(g, g, 2 * h, tanh: false)
          activate(g + 2 * h, g + 2 * h, h, tanh: true)
          activate(g + 3 * h, g + 3 * h, h, tanh: false)
          let row = t * n + first + r
          let (c, cOld) = (x.cells + row * h, cPrevious + r * h)
          for j in 0..<h { c[j] = g[j] * cOld[j] + g[h + j] * g[2 * h + j] }
          let tc = x.tanhCells + row * h
          activate(c, tc, h, tanh: true)
          let hr = x.hidden + row * h
          for j in 0..<h { hr[j] = g[3 * h + j] * tc[j] }
        }
      }
    }
    withExtendedLifetime((p, w, h0, c0, saved)) {}
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
  /// ∂c₀ (nil where no gradient is wanted), added into.
  static func lstmSequenceBackward(
    _ p: Tensor, _ w: Tensor, _ h0: Tensor, _ c0: Tensor, _ output: Tensor,
    _ saved: LSTMSequenceState, upstream s: Tensor, _ gradients: [UnsafeMutableRawPointer?]
  ) {
    switch p.dtype {
    case .float32: lstmSequenceBackward(Float.self, p, w, h0, c0, output, saved, s, gradients)
    case .float64: lstmSequenceBackward(Double.self, p, w, h0, c0, output, saved, s, gradients)
    }
  }

  private static func lstmSequenceBackward<T: TensorScalar>(
    _: T.Type, _ p: Tensor, _ w: Tensor, _ h0: Tensor, _ c0: Tensor, _ output: Tensor,
    _ saved: LSTMSequenceState, _ s: Tensor, _ gradients: [UnsafeMutableRawPointer?]
  ) {
    let (n, h) = (h0.shape[0], h0.shape[1])
    let (steps, rows) = (p.shape[0] / n, p.shape[0])
    // Scratch: ∂z of every step, Wᵀ, and the running ∂h and ∂c of every row.
    let dz = UnsafeMutablePointer<T>.allocate(capacity: rows * 4 * h)
    let wT = UnsafeMutablePointer<T>.allocate(capacity: 4 * h * h)
    let dh = UnsafeMutablePointer<T>.allocate(capacity: n * h)
    let dc = UnsafeMutablePointer<T>.allocate(capacity: n * h)
    defer { for buffer in [dz, wT, dh, dc] { buffer.deallocate() } }
    dh.update(repeating: 0, count: n * h)
    dc.update(repeating: 0, count: n * h)
    let wp = w.pointer(as: T.self)
    for i in 0..<h { for j in 0..<(4 * h) { wT[j * h + i] = wp[i * 4 * h + j] } }

    let pointers = UnsafeSendable(
      (
        gates: saved.gates.pointer(as: T.self), cells: saved.cells.pointer(as: T.self),
        tanhCells: saved.tanhCells.pointer(as: T.self), c0: c0.pointer(as: T.self),
        upstream: s.pointer(as: T.self), dz: dz, wT: wT, dh: dh, dc: dc
      ))
    // Backpropagation through time, each thread over ranges of rows of the batch.
    forEachChunk(units: n, chunk: batchChunk(n), work: steps * n * h * 4 * h) { range in
      let x = pointers.pointer
      let (first, last) = (range.lowerBound, range.upperBound)
      for t in stride(from: steps - 1, through: 0, by: -1) {
        for r in first..<last {
          let row = t * n + r
          let (g, d) = (x.gates + row * 4 * h, x.dz + row * 4 * h)
          let (tc, upstream) = (x.tanhCells + row * h, x.upstream + row * h)
          let cOld = t == 0 ? x.c0 + r * h : x.cells + (row - n) * h
          let (dhr, dcr) = (x.dh + r * h, x.dc + r * h)
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
        }
        // ∂hₜ₋₁ = ∂zₜ Wᵀ for these rows.
        gemm(
          T.self, transA: false, transB: false, m: last - first, n: h, k: 4 * h,
          a: x.dz + (t * n + first) * 4 * h, lda: 4 * h, b: x.wT, ldb: h, c: x.dh + first * h,
          ldc: h, accumulate: false)
      }
    }

    if let g = gradients[0]?.assumingMemoryBound(to: T.self) {
      for i in 0..<(rows * 4 * h) { g[i] += dz[i] }
    }
    if let g = gradients[1]?.assumingMemoryBound(to: T.self) {
      // ∂W = Σₜ hₜ₋₁ᵀ ∂zₜ: h₀ with the first step's ∂z, the outputs of steps 0…T−2 with
      // the ∂z of steps 1…T−1.
      gemm(
        T.self, transA: true, transB: false, m: h, n: 4 * h, k: n, a: h0.pointer(as: T.self),
        lda: h, b: dz, ldb: 4 * h, c: g, ldc: 4 * h, accumulate: true)
      if steps > 1 {
        gemm(
          T.self, transA: true, transB: false, m: h, n: 4 * h, k: (steps - 1) * n,
          a: output.pointer(as: T.self), lda: h, b: dz + n * 4 * h, ldb: 4 * h, c: g,
          ldc: 4 * h, accumulate: true)
      }
    }
    if let g = gradients[2]?.assumingMemoryBound(to: T.self) {
      for i in 0..<(n * h) { g[i] += dh[i] }
    }
    if let g = gradients[3]?.assumingMemoryBound(to: T.self) {
      for i in 0..<(n * h) { g[i] += dc[i] }
    }
    withExtendedLifetime((p, w, h0, c0, output, s, saved)) {}
  }
}

extension GradientCheck {
  static let lstmSequence = GradientCheck(
    "lstmSequence", inputs: [.init([6, 8]), .init([2, 8]), .init([2, 2]), .init([2, 2])]
  ) {
    Var.lstmSequence(inputProjections: $0[0], recurrentWeight: $0[1], hidden: $0[2], cell: $0[3])
  }
}
