extension Var {
  /// Scaled dot-product attention of one or more heads, as one op: each query's average of
  /// the values, weighted by the softmax of its scaled scores on the keys.
  ///
  /// The last axis of each argument holds the heads side by side: queries and keys
  /// `[…, t, h·d]`, values `[…, s, h·e]`. For every head, with Q, K, V that head's columns:
  /// ```
  /// A = softmax(scale · Q Kᵀ)        (causal: query i sees keys j ≤ i + s − t)
  /// O = A V                          the output [..., t, h·e], heads side by side
  /// ```
  /// Backward, for the upstream gradient S of each head's output and the saved weights A:
  /// ```
  /// ∂V = Aᵀ S
  /// ∂A = S Vᵀ,   ∂Z = scale · A ⊙ (∂A − rowsum(∂A ⊙ A))      (Z = Q Kᵀ; 0 where masked)
  /// ∂Q = ∂Z K,   ∂K = ∂Zᵀ Q
  /// ```
  /// The composed expression it replaces is its differentiable rule and oracle: the heads
  /// split off by ``reshaped(_:)`` and ``permuted(_:)``, the batched
  /// ``matmul(_:transposingSelf:transposingOther:)``, ``causalSoftmax(scale:)`` (or
  /// ``softmax(along:)`` of the scaled scores), a batched product with the values, and the
  /// heads joined again. The fused op reads each head's columns in place instead of
  /// permuting them, keeps A for the backward pass, and runs the heads of every sequence
  /// on as many threads as the ``ComputeSettings`` allow.
  ///
  /// - Parameters:
  ///   - queries: `[…, t, h·d]`.
  ///   - keys: `[…, s, h·d]`, with the same leading axes.
  ///   - values: `[…, s, h·e]`, with the same leading axes.
  ///   - heads: h, which divides the queries' and the values' last axes.
  ///   - scale: Multiplies the scores before the softmax: 1/√d in a transformer.
  ///   - causal: Whether query i sees only keys j ≤ i + s − t (the keys up to its own
  ///     position in self-attention).
  /// - Returns: A node of shape `[…, t, h·e]`.
  /// - Complexity: O(h · t · s · (d + e)) per sequence.
  public static func scaledDotProductAttention(
    queries: Var, keys: Var, values: Var, heads: Int = 1, scale: Double, causal: Bool = false
  ) -> Var {
    let name = "attention"
    Kernels.checkAttention(queries.shape, keys.shape, values.shape, heads, causal, op: name)
    let saved = AttentionState()
    return fused(
      name: name, args: [queries, keys, values],
      forward: { args, value in
        Kernels.attention(
          args[0].value, args[1].value, args[2].value, heads: heads, scale: scale,
          causal: causal, saved, into: &value, op: name)
      },
      backward: { args, _, s in
        Kernels.attentionBackward(
          args[0].value, args[1].value, args[2].value, heads: heads, scale: scale,
          causal: causal, saved, upstream: s, args.map { $0.gradientPointer() })
      },
      composed: { args in
        composedScaledDotProductAttention(
          queries: args[0], keys: args[1], values: args[2], heads: heads, scale: scale,
          causal: causal)
      })
  }

  /// The composition that ``scaledDotProductAttention(queries:keys:values:heads:scale:causal:)``
  /// fuses, built from engine ops: the heads split off into an axis of their own
  /// (`[…, t, h·d]` → `[…, h, t, d]`), the batched products and the (causal) softmax, and
  /// the heads joined again. The fused op's oracle; its arguments are those of the fused op.
  public static func composedScaledDotProductAttention(
    queries: Var, keys: Var, values: Var, heads: Int = 1, scale: Double, causal: Bool = false
  ) -> Var {
    Kernels.checkAttention(queries.shape, keys.shape, values.shape, heads, causal, op: "attention")
    // [..., t, h·d] → [..., h, t, d]
    func split(_ x: Var) -> Var {
      let r = x.rank + 1
      let parted = x.reshaped(Array(x.shape.dropLast()) + [heads, x.shape.last! / heads])
      return parted.permuted(Array(0..<(r - 3)) + [r - 2, r - 3, r - 1])
    }
    let scores = split(queries).matmul(split(keys), transposingOther: true)
    let weights = causal ? scores.causalSoftmax(scale: scale) : (scores * scale).softmax()
    let heads = weights.matmul(split(values))
    // [..., h, t, e] → [..., t, h·e]
    let r = heads.rank
    let joined = heads.permuted(Array(0..<(r - 3)) + [r - 2, r - 3, r - 1])
    return joined.reshaped(Array(joined.shape.dropLast(2)) + [-1])
  }
}

/// What the forward of the attention op keeps for its backward: the weights A of every
/// head, `[sequences, h, t, s]`.
final class AttentionState {
  var weights = Tensor(shape: [], buffer: emptyBuffer)
}

extension Kernels {
  static func checkAttention(
    _ q: [Int], _ k: [Int], _ v: [Int], _ heads: Int, _ causal: Bool, op: String
  ) {
    let shapes = "queries \(q), keys \(k), values \(v)"
    require(
      q.count >= 2 && k.count == q.count && v.count == q.count
        && q.dropLast(2) == k.dropLast(2) && q.dropLast(2) == v.dropLast(2),
      "\(op): \(shapes) are not [..., t, h·d], [..., s, h·d], [..., s, h·e] with the same leading axes"
    )
    require(
      k[k.count - 2] == v[v.count - 2] && q.last == k.last,
      "\(op): \(shapes): the keys must match the values in number and the queries in width")
    require(
      heads > 0 && q.last! % heads == 0 && v.last! % heads == 0,
      "\(op): \(shapes): \(heads) heads do not divide the widths \(q.last!) and \(v.last!)")
    require(
      !causal || k[k.count - 2] >= q[q.count - 2],
      "\(op): \(shapes): a causal mask needs at least as many keys as queries")
  }

  /// The sizes of an attention op's arguments: sequences n, heads h, queries t, keys s,
  /// head widths d (queries and keys) and e (values).
  struct AttentionShape: Sendable {
    let n: Int
    let h: Int
    let t: Int
    let s: Int
    let d: Int
    let e: Int

    init(_ q: [Int], _ k: [Int], _ v: [Int], heads: Int) {
      n = q.dropLast(2).reduce(1, *)
      h = heads
      (t, s) = (q[q.count - 2], k[k.count - 2])
      (d, e) = (q.last! / heads, v.last! / heads)
    }

    /// Where head `head` of sequence `sequence` starts in the queries, keys, values (and
    /// output, or the gradients of each).
    func offsets(_ unit: Int) -> (q: Int, k: Int, v: Int, o: Int) {
      let (sequence, head) = (unit / h, unit % h)
      return (
        sequence * t * h * d + head * d, sequence * s * h * d + head * d,
        sequence * s * h * e + head * e, sequence * t * h * e + head * e
      )
    }

    /// The keys that query `row` sees.
    func visible(_ row: Int, causal: Bool) -> Int {
      causal ? visibleKeys(row: row, queries: t, keys: s) : s
    }

    /// The first query that sees key `key`.
    func firstQuery(seeing key: Int, causal: Bool) -> Int {
      causal ? Swift.max(0, key - (s - t)) : 0
    }

    /// The ranges of queries (or keys) that the products take one at a time: under the
    /// mask, blocks of `causalBlock`, so that a block of queries multiplies only the keys
    /// its last query sees (and a block of keys only the queries that see it), skipping
    /// most of the masked triangle: at 128 positions, 10 of 16 blocks; without it, all at
    /// once.
    func blocks(of count: Int, causal: Bool) -> [(Int, Int)] {
      let size = causal ? AttentionShape.causalBlock : Swift.max(1, count)
      return stride(from: 0, to: count, by: size).map { ($0, Swift.min(count, $0 + size)) }
    }

    /// The block of queries and keys under the causal mask.
    static let causalBlock = 32
  }

  static func attention(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, scale: Double, causal: Bool,
    _ saved: AttentionState, into out: inout Tensor, op: String
  ) {
    checkAttention(q.shape, k.shape, v.shape, heads, causal, op: op)
    require(
      q.dtype == k.dtype && q.dtype == v.dtype,
      "\(op): dtypes \(q.dtype), \(k.dtype), \(v.dtype) differ")
    let shape = AttentionShape(q.shape, k.shape, v.shape, heads: heads)
    out.prepare(shape: Array(q.shape.dropLast()) + [v.shape.last!], dtype: q.dtype)
    saved.weights.prepare(shape: [shape.n, shape.h, shape.t, shape.s], dtype: q.dtype)
    switch q.dtype {
    case .float32: attention(Float.self, q, k, v, shape, Float(scale), causal, saved, &out)
    case .float64: attention(Double.self, q, k, v, shape, scale, causal, saved, &out)
    }
  }

  private static func attention<T: TensorScalar>(
    _: T.Type, _ q: Tensor, _ k: Tensor, _ v: Tensor, _ shape: AttentionShape, _ scale: T,
    _ causal: Bool, _ saved: AttentionState, _ out: inout Tensor
  ) {
    let x = UnsafeSendable(
      (
        q: q.pointer(as: T.self), k: k.pointer(as: T.self), v: v.pointer(as: T.self),
        a: saved.weights.pointer(as: T.self), o: out.pointer(as: T.self)
      ))
    let z = shape
    let (hd, he) = (z.h * z.d, z.h * z.e)
    forEachPart(units: z.n * z.h, work: z.n * z.h * z.t * z.s * (z.d + z.e)) { part, parts in
      let x = x.pointer
      let units = z.n * z.h
      for unit in (units * part / parts)..<(units * (part + 1) / parts) {
        let offset = z.offsets(unit)
        let a = x.a + unit * z.t * z.s
        for (r0, r1) in z.blocks(of: z.t, causal: causal) {
          // The keys the block's last query sees; under the mask, the others are not read.
          let keys = z.visible(r1 - 1, causal: causal)
          // Z = Q Kᵀ, then A = softmax(scale · Z) row by row, in place.
          gemm(
            T.self, transA: false, transB: true, m: r1 - r0, n: keys, k: z.d,
            a: x.q + offset.q + r0 * hd, lda: hd, b: x.k + offset.k, ldb: hd, c: a + r0 * z.s,
            ldc: z.s, accumulate: false)
          for row in r0..<r1 {
            causalSoftmaxRow(
              a + row * z.s, a + row * z.s, visible: z.visible(row, causal: causal),
              length: z.s, scale: scale)
          }
          // O = A V, into this head's columns of the output.
          gemm(
            T.self, transA: false, transB: false, m: r1 - r0, n: z.e, k: keys, a: a + r0 * z.s,
            lda: z.s, b: x.v + offset.v, ldb: he, c: x.o + offset.o + r0 * he, ldc: he,
            accumulate: false)
        }
      }
    }
    withExtendedLifetime((q, k, v, saved)) {}
  }

  /// The fast rule: `gradients` are the storage of ∂Q, ∂K, ∂V (nil where none is wanted),
  /// added into.
  static func attentionBackward(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, scale: Double, causal: Bool,
    _ saved: AttentionState, upstream s: Tensor, _ gradients: [UnsafeMutableRawPointer?]
  ) {
    let shape = AttentionShape(q.shape, k.shape, v.shape, heads: heads)
    switch q.dtype {
    case .float32:
      attentionBackward(Float.self, q, k, v, shape, Float(scale), causal, saved, s, gradients)
    case .float64:
      attentionBackward(Double.self, q, k, v, shape, scale, causal, saved, s, gradients)
    }
  }

  private static func attentionBackward<T: TensorScalar>(
    _: T.Type, _ q: Tensor, _ k: Tensor, _ v: Tensor, _ shape: AttentionShape, _ scale: T,
    _ causal: Bool, _ saved: AttentionState, _ s: Tensor, _ gradients: [UnsafeMutableRawPointer?]
  ) {
    func typed(_ p: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<T>? {
      p?.assumingMemoryBound(to: T.self)
    }
    let x = UnsafeSendable(
      (
        q: q.pointer(as: T.self), k: k.pointer(as: T.self), v: v.pointer(as: T.self),
        a: saved.weights.pointer(as: T.self), s: s.pointer(as: T.self),
        gq: typed(gradients[0]), gk: typed(gradients[1]), gv: typed(gradients[2])
      ))
    let z = shape
    let (hd, he) = (z.h * z.d, z.h * z.e)
    let needsScores = gradients[0] != nil || gradients[1] != nil
    forEachPart(units: z.n * z.h, work: 2 * z.n * z.h * z.t * z.s * (z.d + z.e)) { part, parts in
      let x = x.pointer
      let units = z.n * z.h
      // ∂A, then ∂Z in place, for one head at a time.
      let dz = UnsafeMutablePointer<T>.allocate(capacity: z.t * z.s)
      defer { dz.deallocate() }
      for unit in (units * part / parts)..<(units * (part + 1) / parts) {
        let offset = z.offsets(unit)
        let a = x.a + unit * z.t * z.s
        let upstream = x.s + offset.o
        if let gv = x.gv {
          // ∂V += Aᵀ S, by blocks of keys, each from the first query that sees it.
          for (c0, c1) in z.blocks(of: z.s, causal: causal) {
            let i0 = z.firstQuery(seeing: c0, causal: causal)
            gemm(
              T.self, transA: true, transB: false, m: c1 - c0, n: z.e, k: z.t - i0,
              a: a + i0 * z.s + c0, lda: z.s, b: upstream + i0 * he, ldb: he,
              c: gv + offset.v + c0 * he, ldc: he, accumulate: true)
          }
        }
        guard needsScores else { continue }
        for (r0, r1) in z.blocks(of: z.t, causal: causal) {
          let keys = z.visible(r1 - 1, causal: causal)
          // ∂A = S Vᵀ, then ∂Z = scale · A ⊙ (∂A − rowsum(∂A ⊙ A)), 0 where masked.
          gemm(
            T.self, transA: false, transB: true, m: r1 - r0, n: keys, k: z.e,
            a: upstream + r0 * he, lda: he, b: x.v + offset.v, ldb: he, c: dz + r0 * z.s,
            ldc: z.s, accumulate: false)
          for row in r0..<r1 {
            let visible = z.visible(row, causal: causal)
            let r = dz + row * z.s
            causalSoftmaxRowBackward(
              a + row * z.s, r, r, visible: visible, scale: scale, accumulate: false)
            for j in visible..<z.s { r[j] = 0 }
          }
          if let gq = x.gq {
            // ∂Q += ∂Z K
            gemm(
              T.self, transA: false, transB: false, m: r1 - r0, n: z.d, k: keys,
              a: dz + r0 * z.s, lda: z.s, b: x.k + offset.k, ldb: hd,
              c: gq + offset.q + r0 * hd, ldc: hd, accumulate: true)
          }
        }
        if let gk = x.gk {
          // ∂K += ∂Zᵀ Q, by blocks of keys.
          for (c0, c1) in z.blocks(of: z.s, causal: causal) {
            let i0 = z.firstQuery(seeing: c0, causal: causal)
            gemm(
              T.self, transA: true, transB: false, m: c1 - c0, n: z.d, k: z.t - i0,
              a: dz + i0 * z.s + c0, lda: z.s, b: x.q + offset.q + i0 * hd, ldb: hd,
              c: gk + offset.k + c0 * hd, ldc: hd, accumulate: true)
          }
        }
      }
    }
    withExtendedLifetime((q, k, v, s, saved)) {}
  }
}

extension GradientCheck {
  /// Two sequences of three queries attending to four keys with two heads.
  static let attention = GradientCheck(
    "attention (2 heads)", inputs: [.init([2, 3, 4]), .init([2, 4, 4]), .init([2, 4, 6])]
  ) {
    Var.scaledDotProductAttention(
      queries: $0[0], keys: $0[1], values: $0[2], heads: 2, scale: 0.5)
  }
  /// Causal self-attention of one sequence of four steps, two heads.
  static let attentionCausal = GradientCheck(
    "attention (causal, 2 heads)", inputs: [.init([4, 4]), .init([4, 4]), .init([4, 2])]
  ) {
    Var.scaledDotProductAttention(
      queries: $0[0], keys: $0[1], values: $0[2], heads: 2, scale: 0.7, causal: true)
  }
}
