import Autodiff
import Testing

@Suite("Causal softmax and the attention op")
struct AttentionOpTests {
  /// The causal softmax equals the softmax of the scaled scores plus a mask of −∞ after each
  /// query's last visible key, and its masked weights are exactly 0.
  @Test func causalSoftmaxIsTheSoftmaxWithAnAdditiveMask() {
    var rng = SeededGenerator(seed: 2)
    for (queries, keys) in [(4, 4), (2, 5), (1, 3)] {
      let x = Tensor.normal([3, queries, keys], dtype: .float64, using: &rng)
      var mask = Tensor.zeros([queries, keys], dtype: .float64)
      for i in 0..<queries {
        for j in 0..<keys where j > i + keys - queries { mask[i, j] = -.infinity }
      }
      let y = Var(x).causalSoftmax(scale: 0.5).value
      let expected = (Var(x) * 0.5 + Var.constant(mask)).softmax().value
      for i in 0..<y.count {
        #expect(abs(y[flat: i] - expected[flat: i]) < 1e-15)
        if expected[flat: i] == 0 { #expect(y[flat: i] == 0) }
      }
    }
  }

  @Test func causalSoftmaxInFloatMatchesDouble() {
    var rng = SeededGenerator(seed: 9)
    let x = Tensor.normal([2, 40, 40], dtype: .float64, using: &rng)
    let double = Var(x).causalSoftmax(scale: 0.3).value
    let float = Var(x.converted(to: .float32)).causalSoftmax(scale: 0.3).value
    for i in 0..<x.count { #expect(abs(double[flat: i] - float[flat: i]) < 1e-6) }
  }

  /// The fused op and its composition agree in value and in gradient, with and without the
  /// mask, in Float on two threads (the kernel's threaded path) and in Double.
  @Test(arguments: [false, true], [DType.float64, .float32])
  func fusedAttentionMatchesItsComposition(causal: Bool, dtype: DType) {
    var rng = SeededGenerator(seed: 4)
    let (n, t, heads, d) = (3, 7, 2, 5)
    let q = Var(Tensor.normal([n, t, heads * d], dtype: dtype, using: &rng))
    let k = Var(Tensor.normal([n, t, heads * d], dtype: dtype, using: &rng))
    let v = Var(Tensor.normal([n, t, heads * 3], dtype: dtype, using: &rng))
    let weights = Var.constant(Tensor.normal([n, t, heads * 3], dtype: dtype, using: &rng))
    func run(_ fused: Bool) -> [Tensor] {
      for x in [q, k, v] { x.grad = nil }
      let y =
        fused
        ? Var.scaledDotProductAttention(
          queries: q, keys: k, values: v, heads: heads, scale: 0.4, causal: causal)
        : Var.composedScaledDotProductAttention(
          queries: q, keys: k, values: v, heads: heads, scale: 0.4, causal: causal)
      ComputeSettings.withThreads(2, minimumWork: 0) { (y * weights).sum().backward() }
      return [y.value, q.grad!, k.grad!, v.grad!]
    }
    let (fused, composed) = (run(true), run(false))
    let tolerance = dtype == .float32 ? 1e-5 : 1e-12
    for (a, b) in zip(fused, composed) {
      #expect(a.shape == b.shape)
      let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
      #expect(worst < tolerance)
    }
  }

  /// Under the mask the fused op multiplies blocks of queries by the keys they see (and
  /// blocks of keys by the queries that see them): sequences longer than a block, with a
  /// partial last block and with more keys than queries, against the composition.
  @Test(arguments: [(70, 70), (40, 75), (32, 32), (33, 64)], [DType.float64, .float32])
  func blockedCausalAttentionMatchesItsComposition(lengths: (Int, Int), dtype: DType) {
    var rng = SeededGenerator(seed: 6)
    let ((t, s), heads, d) = (lengths, 2, 4)
    let q = Var(Tensor.normal([2, t, heads * d], dtype: dtype, using: &rng))
    let k = Var(Tensor.normal([2, s, heads * d], dtype: dtype, using: &rng))
    let v = Var(Tensor.normal([2, s, heads * 3], dtype: dtype, using: &rng))
    let weights = Var.constant(Tensor.normal([2, t, heads * 3], dtype: dtype, using: &rng))
    func run(_ fused: Bool) -> [Tensor] {
      for x in [q, k, v] { x.grad = nil }
      let y =
        fused
        ? Var.scaledDotProductAttention(
          queries: q, keys: k, values: v, heads: heads, scale: 0.4, causal: true)
        : Var.composedScaledDotProductAttention(
          queries: q, keys: k, values: v, heads: heads, scale: 0.4, causal: true)
      (y * weights).sum().backward()
      return [y.value, q.grad!, k.grad!, v.grad!]
    }
    let (fused, composed) = (run(true), run(false))
    let tolerance = dtype == .float32 ? 1e-4 : 1e-12
    for (a, b) in zip(fused, composed) {
      #expect(a.shape == b.shape)
      let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
      #expect(worst < tolerance, "\(t) queries, \(s) keys, \(dtype): error \(worst)")
    }
  }

  /// With the mask, the output at step t does not depend on the inputs after t.
  @Test func causalAttentionIgnoresTheFuture() {
    var rng = SeededGenerator(seed: 8)
    let x = Var(Tensor.normal([1, 6, 4], using: &rng))
    let y = Var.scaledDotProductAttention(
      queries: x, keys: x, values: x, heads: 2, scale: 0.5, causal: true)
    for step in 0..<6 {
      x.grad = nil
      let seed = Tensor.zeros([1, 6, 4])
      var s = seed
      for j in 0..<4 { s[0, step, j] = 1 }
      y.backward(s)
      for later in (step + 1)..<6 {
        for j in 0..<4 { #expect(x.grad![0, later, j] == 0) }
      }
      #expect((0..<4).contains { x.grad![0, step, $0] != 0 })
    }
  }
}
