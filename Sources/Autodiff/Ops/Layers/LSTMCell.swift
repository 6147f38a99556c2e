import CKernels
import Foundation

extension Var {
  /// The LSTM cell-state update from the gate pre-activations z = [h_{t−1} x_t]·W + b, laid
  /// out as four blocks of `hidden` columns in the course's order — forget, input,
  /// candidate, output — and the previous cell state c:
  /// ```
  /// c_t = σ(z_f) ⊙ c_{t−1} + σ(z_i) ⊙ tanh(z_g)
  /// ```
  /// One fused op; ``lstmHiddenState(preactivations:cell:)`` gives h_t from c_t.
  ///
  /// Backward, for upstream s: ∂c_{t−1} = s ⊙ f (while f ≈ 1 the gradient does not decay),
  /// ∂z_f = s ⊙ c_{t−1} ⊙ f(1 − f), ∂z_i = s ⊙ g ⊙ i(1 − i), ∂z_g = s ⊙ i ⊙ (1 − g²),
  /// ∂z_o = 0.
  public static func lstmCellState(preactivations z: Var, cell c: Var) -> Var {
    let hidden = lstmHiddenSize(z, c, op: "lstmCellState")
    let gates = SavedTensor()
    return fused(
      name: "lstmCellState", args: [z, c],
      forward: { args, value in
        Kernels.lstmGates(args[0].value, into: &gates.tensor)
        Kernels.lstmCellState(gates: gates.tensor, cell: args[1].value, into: &value)
      },
      backward: { args, _, s in
        Kernels.lstmCellStateBackward(
          gates: gates.tensor, cell: args[1].value, upstream: s, args[0].gradientPointer(),
          args[1].gradientPointer())
      },
      composed: { args in
        let (z, c) = (args[0], args[1])
        let f = z.columns(0..<hidden).sigmoid()
        let i = z.columns(hidden..<(2 * hidden)).sigmoid()
        let g = z.columns((2 * hidden)..<(3 * hidden)).tanh()
        return f * c + i * g
      })
  }

  /// The LSTM hidden state h_t = σ(z_o) ⊙ tanh(c_t) from the same pre-activations and the
  /// new cell state.
  ///
  /// Backward: ∂z_o = s ⊙ tanh(c_t) ⊙ o(1 − o), ∂c_t = s ⊙ o ⊙ (1 − tanh²(c_t)), other
  /// gate columns 0.
  public static func lstmHiddenState(preactivations z: Var, cell c: Var) -> Var {
    let hidden = lstmHiddenSize(z, c, op: "lstmHiddenState")
    let saved = SavedTensor()
    return fused(
      name: "lstmHiddenState", args: [z, c],
      forward: { args, value in
        Kernels.lstmHiddenState(args[0].value, args[1].value, saved: &saved.tensor, into: &value)
      },
      backward: { args, _, s in
        Kernels.lstmHiddenStateBackward(
          saved: saved.tensor, upstream: s, args[0].gradientPointer(), args[1].gradientPointer())
      },
      composed: { args in
        let (z, c) = (args[0], args[1])
        return z.columns((3 * hidden)..<(4 * hidden)).sigmoid() * c.tanh()
      })
  }
}

/// The hidden size of an LSTM cell op, checking that pre-activations are [n, 4h] for a
/// cell state [n, h].
private func lstmHiddenSize(_ z: Var, _ c: Var, op: String) -> Int {
  let hidden = c.shape.last ?? 0
  require(
    z.rank == 2 && c.rank == 2 && z.shape == [c.shape[0], 4 * hidden],
    "\(op): preactivations \(z.shape) do not match cell \(c.shape) (expected [n, 4 · \(hidden)])")
  return hidden
}

extension Kernels {
  /// σ (or tanh) of `count` elements, vectorized for `Float`.
  @inline(__always)
  static func activate<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int, tanh: Bool
  ) {
    if T.self == Float.self && ComputeSettings.kernelLevel > .portable {
      let (xf, yf) = (
        UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
        UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self)
      )
      if tanh { ad_tanh_f32(xf, yf, count) } else { ad_sigmoid_f32(xf, yf, count) }
    } else if tanh {
      for i in 0..<count { y[i] = T.tanh(x[i]) }
    } else {
      for i in 0..<count { y[i] = SigmoidFunction.value(x[i], 0, 0) }
    }
  }

  /// The gate activations [σ(z_f) σ(z_i) tanh(z_g) σ(z_o)] of pre-activations [n, 4h].
  static func lstmGates(_ z: Tensor, into gates: inout Tensor) {
    gates.prepare(shape: z.shape, dtype: z.dtype)
    switch z.dtype {
    case .float32: lstmGates(Float.self, z, &gates)
    case .float64: lstmGates(Double.self, z, &gates)
    }
  }

  private static func lstmGates<T: TensorScalar>(_: T.Type, _ z: Tensor, _ gates: inout Tensor) {
    let (n, h) = (z.shape[0], z.shape[1] / 4)
    let (zp, gp) = (z.pointer(as: T.self), gates.pointer(as: T.self))
    for r in 0..<n {
      let (zr, gr) = (zp + r * 4 * h, gp + r * 4 * h)
      activate(zr, gr, 2 * h, tanh: false)
      activate(zr + 2 * h, gr + 2 * h, h, tanh: true)
      activate(zr + 3 * h, gr + 3 * h, h, tanh: false)
    }
    withExtendedLifetime(z) {}
  }

  /// c_t = f ⊙ c + i ⊙ g from saved gates.
  static func lstmCellState(gates: Tensor, cell c: Tensor, into out: inout Tensor) {
    out.prepare(shape: c.shape, dtype: c.dtype)
    switch c.dtype {
    case .float32: lstmCellState(Float.self, gates, c, &out)
    case .float64: lstmCellState(Double.self, gates, c, &out)
    }
  }

  private static func lstmCellState<T: TensorScalar>(
    _: T.Type, _ gates: Tensor, _ c: Tensor, _ out: inout Tensor
  ) {
    let (n, h) = (c.shape[0], c.shape[1])
    let (gp, cp, yp) = (gates.pointer(as: T.self), c.pointer(as: T.self), out.pointer(as: T.self))
    for r in 0..<n {
      let (g, cr, y) = (gp + r * 4 * h, cp + r * h, yp + r * h)
      for j in 0..<h { y[j] = g[j] * cr[j] + g[h + j] * g[2 * h + j] }
    }
    withExtendedLifetime((gates, c)) {}
  }

  /// ∂z (gate columns f, i, g) and ∂c for the cell-state op, from saved gates.
  static func lstmCellStateBackward(
    gates: Tensor, cell c: Tensor, upstream s: Tensor, _ gz: UnsafeMutableRawPointer?,
    _ gc: UnsafeMutableRawPointer?
  ) {
    switch c.dtype {
    case .float32: lstmCellStateBackward(Float.self, gates, c, s, gz, gc)
    case .float64: lstmCellStateBackward(Double.self, gates, c, s, gz, gc)
    }
  }

  private static func lstmCellStateBackward<T: TensorScalar>(
    _: T.Type, _ gates: Tensor, _ c: Tensor, _ s: Tensor, _ gz: UnsafeMutableRawPointer?,
    _ gc: UnsafeMutableRawPointer?
  ) {
    let (n, h) = (c.shape[0], c.shape[1])
    let (gp, cp, sp) = (gates.pointer(as: T.self), c.pointer(as: T.self), s.pointer(as: T.self))
    let gzp = gz?.assumingMemoryBound(to: T.self)
    let gcp = gc?.assumingMemoryBound(to: T.self)
    for r in 0..<n {
      let (g, cr, sr) = (gp + r * 4 * h, cp + r * h, sp + r * h)
      if let gzp {
        let d = gzp + r * 4 * h
        for j in 0..<h {
          let (f, i, cand) = (g[j], g[h + j], g[2 * h + j])
          d[j] += sr[j] * cr[j] * f * (1 - f)
          d[h + j] += sr[j] * cand * i * (1 - i)
          d[2 * h + j] += sr[j] * i * (1 - cand * cand)
        }
      }
      if let gcp {
        let d = gcp + r * h
        for j in 0..<h { d[j] += sr[j] * g[j] }
      }
    }
    withExtendedLifetime((gates, c, s)) {}
  }

  /// h_t = o ⊙ tanh(c_t); saves o and tanh(c_t) for the backward in `saved` ([n, 2h]).
  static func lstmHiddenState(_ z: Tensor, _ c: Tensor, saved: inout Tensor, into out: inout Tensor)
  {
    out.prepare(shape: c.shape, dtype: c.dtype)
    saved.prepare(shape: [c.shape[0], 2 * c.shape[1]], dtype: c.dtype)
    switch c.dtype {
    case .float32: lstmHiddenState(Float.self, z, c, &saved, &out)
    case .float64: lstmHiddenState(Double.self, z, c, &saved, &out)
    }
  }

  private static func lstmHiddenState<T: TensorScalar>(
    _: T.Type, _ z: Tensor, _ c: Tensor, _ saved: inout Tensor, _ out: inout Tensor
  ) {
    let (n, h) = (c.shape[0], c.shape[1])
    let (zp, cp, vp, yp) = (
      z.pointer(as: T.self), c.pointer(as: T.self), saved.pointer(as: T.self),
      out.pointer(as: T.self)
    )
    for r in 0..<n {
      let v = vp + r * 2 * h
      activate(zp + r * 4 * h + 3 * h, v, h, tanh: false)
      activate(cp + r * h, v + h, h, tanh: true)
      let y = yp + r * h
      for j in 0..<h { y[j] = v[j] * v[h + j] }
    }
    withExtendedLifetime((z, c)) {}
  }

  static func lstmHiddenStateBackward(
    saved: Tensor, upstream s: Tensor, _ gz: UnsafeMutableRawPointer?,
    _ gc: UnsafeMutableRawPointer?
  ) {
    switch s.dtype {
    case .float32: lstmHiddenStateBackward(Float.self, saved, s, gz, gc)
    case .float64: lstmHiddenStateBackward(Double.self, saved, s, gz, gc)
    }
  }

  private static func lstmHiddenStateBackward<T: TensorScalar>(
    _: T.Type, _ saved: Tensor, _ s: Tensor, _ gz: UnsafeMutableRawPointer?,
    _ gc: UnsafeMutableRawPointer?
  ) {
    let (n, h) = (s.shape[0], s.shape[1])
    let (vp, sp) = (saved.pointer(as: T.self), s.pointer(as: T.self))
    let gzp = gz?.assumingMemoryBound(to: T.self)
    let gcp = gc?.assumingMemoryBound(to: T.self)
    for r in 0..<n {
      let (v, sr) = (vp + r * 2 * h, sp + r * h)
      for j in 0..<h {
        let (o, t) = (v[j], v[h + j])
        gzp?[r * 4 * h + 3 * h + j] += sr[j] * t * o * (1 - o)
        gcp?[r * h + j] += sr[j] * o * (1 - t * t)
      }
    }
    withExtendedLifetime((saved, s)) {}
  }
}

extension GradientCheck {
  static let lstmCellState = GradientCheck(
    "lstmCellState", inputs: [.init([3, 8]), .init([3, 2])]
  ) { Var.lstmCellState(preactivations: $0[0], cell: $0[1]) }
  static let lstmHiddenState = GradientCheck(
    "lstmHiddenState", inputs: [.init([3, 8]), .init([3, 2])]
  ) { Var.lstmHiddenState(preactivations: $0[0], cell: $0[1]) }
  static let lstmStep = GradientCheck(
    "LSTM step (fused cell)",
    inputs: [.init([2, 3]), .init([2, 2]), .init([2, 2]), .init([5, 8])]
  ) { a in
    let (x, h, c, w) = (a[0], a[1], a[2], a[3])
    let z = Var.concatenate([h, x], along: 1).matmul(w)
    let next = Var.lstmCellState(preactivations: z, cell: c)
    return Var.lstmHiddenState(preactivations: z, cell: next)
  }
}
