import Testing

@testable import Autodiff

/// The packed copies of a product's B operand kept across products: the same results as
/// packing every time, and never stale after a write, whichever way it is written.
@Suite("Packed panels")
struct PackedPanelsTests {
  /// A · B with B's packed copy kept or not.
  func product(_ a: Tensor, _ b: Tensor, transB: Bool = false, reusing: Bool = true) -> Tensor {
    ComputeSettings.$reusesPackedPanels.withValue(reusing) {
      Var(a).matmul(Var(b), transposingOther: transB).value
    }
  }

  func panels(_ b: Tensor) -> PackedPanels? {
    PackedPanels.lock.lock()
    defer { PackedPanels.lock.unlock() }
    return b.buffer.panelCache?.panels
  }

  @Test(arguments: [DType.float32, .float64], [false, true])
  func keptCopyGivesTheSameProducts(dtype: DType, transB: Bool) {
    var rng = SeededGenerator(seed: 7)
    let a = Tensor.normal([130, 200], dtype: dtype, using: &rng)
    let b = Tensor.normal(transB ? [300, 200] : [200, 300], dtype: dtype, using: &rng)
    let expected = product(a, b, transB: transB, reusing: false)
    #expect(panels(b) == nil)
    // The first product remembers B, the second keeps a packed copy, the third uses it.
    #expect(product(a, b, transB: transB) == expected)
    #expect(panels(b) == nil)
    #expect(product(a, b, transB: transB) == expected)
    let kept = panels(b)
    #expect(kept != nil)
    #expect(product(a, b, transB: transB) == expected)
    #expect(panels(b) === kept)
  }

  @Test(arguments: [1, 2])
  func threadsShareOneCopy(threads: Int) {
    var rng = SeededGenerator(seed: 8)
    for (m, n) in [(100, 1030), (400, 150)] {  // split by columns, then by rows
      let a = Tensor.normal([m, 300], dtype: .float32, using: &rng)
      let b = Tensor.normal([300, n], dtype: .float32, using: &rng)
      let expected = product(a, b, reusing: false)
      ComputeSettings.withThreads(threads, minimumWork: 0) {
        for _ in 0..<3 { #expect(product(a, b) == expected) }
      }
      #expect(panels(b) != nil)
    }
  }

  /// Every way of writing a tensor in place, each between two products.
  @Test func writesInPlaceAreSeen() {
    var rng = SeededGenerator(seed: 9)
    let a = Tensor.normal([120, 160], dtype: .float32, using: &rng)
    var b = Tensor.normal([160, 128], dtype: .float32, using: &rng)
    let writes: [(String, (inout Tensor) -> Void)] = [
      ("subscript", { $0[3, 5] = 42 }),
      ("flat subscript", { $0[flat: 1000] = -7 }),
      ("mutable buffer", { t in t.withUnsafeMutableBufferPointer(as: Float.self) { $0[9] += 1 } }),
      ("fill", { $0.fill(with: 0.5) }),
      ("assign", { $0.assign(Tensor.normal([160, 128], dtype: .float32, using: &rng)) }),
    ]
    for (name, write) in writes {
      _ = product(a, b)
      _ = product(a, b)
      #expect(panels(b) != nil, "\(name)")
      let before = b.buffer.version
      write(&b)
      #expect(b.buffer.version != before || panels(b) == nil, "\(name): version unchanged")
      #expect(product(a, b) == product(a, b, reusing: false), "\(name): stale product")
      #expect(product(a, b) == product(a, b, reusing: false), "\(name): stale product")
    }
  }

  /// A parameter updated in place by an optimizer-like loop, and one replaced with `set`,
  /// between products of one graph re-evaluated.
  @Test func parameterUpdatesAreSeen() {
    var rng = SeededGenerator(seed: 10)
    let x = Var.constant(Tensor.normal([110, 128], dtype: .float32, using: &rng))
    let w = Var(Tensor.normal([128, 140], dtype: .float32, using: &rng))
    let y = x.matmul(w)
    for step in 0..<6 {
      y.evaluate()
      y.evaluate()
      let expected = product(x.value, w.value, reusing: false)
      #expect(y.value == expected, "step \(step)")
      if step == 3 {
        w.set(Tensor.normal([128, 140], dtype: .float32, using: &rng))
      } else {
        w.updateValue { v in
          v.withUnsafeMutableBufferPointer(as: Float.self) { p in
            for i in 0..<p.count { p[i] -= 0.01 * Float(i % 7) }
          }
        }
      }
      y.evaluate()
      #expect(y.value == product(x.value, w.value, reusing: false), "step \(step) after update")
    }
  }

  /// B computed by an op whose forward rewrites its storage in place (through `prepare`)
  /// when the graph is re-evaluated, read by two products (the second keeps its panels).
  @Test func recomputedOperandsAreSeen() {
    var rng = SeededGenerator(seed: 14)
    let x = Var.constant(Tensor.normal([100, 128], dtype: .float32, using: &rng))
    let p = Var(Tensor.normal([128, 144], dtype: .float32, using: &rng))
    let b = p * 2
    let (y, z) = (x.matmul(b), (x * 3).matmul(b))
    let total = y + z
    for step in 0..<3 {
      let version = b.value.buffer.version
      p.updateValue { $0.fill(with: 0.25 * Double(step)) }
      total.evaluate()
      #expect(b.value.buffer.version != version)
      #expect(y.value == product(x.value, b.value, reusing: false), "step \(step)")
      #expect(z.value == product((x * 3).value, b.value, reusing: false), "step \(step)")
    }
  }

  /// A copy written after sharing storage gets its own storage and no packed copy.
  @Test func copiesDoNotShareAPackedCopy() {
    var rng = SeededGenerator(seed: 11)
    let a = Tensor.normal([100, 130], dtype: .float32, using: &rng)
    let b = Tensor.normal([130, 150], dtype: .float32, using: &rng)
    _ = product(a, b)
    _ = product(a, b)
    var c = b
    c[0, 0] = 100
    #expect(c.buffer !== b.buffer)
    #expect(product(a, c) == product(a, c, reusing: false))
    #expect(product(a, b) == product(a, b, reusing: false))
  }

  @Test func packedCopyIsFreedWithItsBuffer() {
    var rng = SeededGenerator(seed: 12)
    let a = Tensor.normal([100, 128], dtype: .float32, using: &rng)
    weak var kept: PackedPanels?
    do {
      let b = Tensor.normal([128, 256], dtype: .float32, using: &rng)
      _ = product(a, b)
      _ = product(a, b)
      kept = panels(b)
      #expect(kept != nil)
    }
    #expect(kept == nil)
  }

  /// Products with few rows of A read a small B in place but use a copy already kept, and
  /// keep one of a large B.
  @Test func fewRowsUseAKeptCopy() {
    var rng = SeededGenerator(seed: 15)
    let b = Tensor.normal([200, 300], dtype: .float32, using: &rng)
    let tall = Tensor.normal([120, 200], dtype: .float32, using: &rng)
    for rows in [1, 5, 40] {
      let a = Tensor.normal([rows, 200], dtype: .float32, using: &rng)
      #expect(product(a, b) == product(a, b, reusing: false))
      #expect(panels(b) == nil)
    }
    _ = product(tall, b)
    _ = product(tall, b)
    #expect(panels(b) != nil)
    for rows in [1, 5, 7, 40] {
      let a = Tensor.normal([rows, 200], dtype: .float32, using: &rng)
      #expect(product(a, b) == product(a, b, reusing: false), "\(rows) rows")
    }
    let large = Tensor.normal([512, 512], dtype: .float32, using: &rng)
    let a = Tensor.normal([3, 512], dtype: .float32, using: &rng)
    let expected = product(a, large, reusing: false)
    for _ in 0..<3 { #expect(product(a, large) == expected) }
    #expect(panels(large) != nil)
  }

  /// Small operands and operands over the budget are packed every time, correctly.
  @Test func smallOperandsAreNotKept() {
    var rng = SeededGenerator(seed: 13)
    let a = Tensor.normal([100, 20], dtype: .float32, using: &rng)
    let b = Tensor.normal([20, 30], dtype: .float32, using: &rng)
    for _ in 0..<3 { #expect(product(a, b) == product(a, b, reusing: false)) }
    #expect(panels(b) == nil)
  }
}
