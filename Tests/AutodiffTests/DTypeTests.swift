import Autodiff
import Foundation
import Testing

/// The dtype rule: mixed arguments compute in Double, leaves keep their dtype.
@Suite("Mixed dtypes")
struct DTypeTests {
  @Test func crossEntropyOfDoubleLogitsWithFloatLabels() {
    let x = Var(Tensor([[0.5, -1, 2], [1.5, 0.2, -0.3]], dtype: .float64))
    let loss = crossEntropy(logits: x, labels: Var.labels([2, 0]))
    #expect(abs(loss.value.scalar - 0.30220) < 1e-4)
    let reference = crossEntropy(logits: Var(x.value), labels: Var.labels([2, 0], dtype: .float64))
    #expect(abs(loss.value.scalar - reference.value.scalar) < 1e-12)
    let g = gradients(of: loss, withRespectTo: [x])[0]
    loss.backward()
    #expect(maxDifference(g.value, x.grad!) < 1e-15)
  }

  @Test func setConvertsToTheLeafsDType() {
    let w = Var(Tensor.ones([3], dtype: .float32))
    w.set(Tensor([0.5, 1.5, 2.5], dtype: .float64))
    #expect(w.dtype == .float32)
    #expect(w.value.scalars == [0.5, 1.5, 2.5])
    let s = Var(Tensor(scalar: 1, dtype: .float32))
    s.set(Tensor(scalar: 0.25, dtype: .float64))
    #expect(s.dtype == .float32)
    s.updateValue { $0 = Tensor(scalar: 0.75, dtype: .float64) }
    #expect(s.dtype == .float32 && s.value.scalar == 0.75)
  }

  @Test func floatLeafInADoubleOpGetsAFloatGradient() {
    let w = Var(Tensor([1, 2, 3], dtype: .float32))
    let x = Var(Tensor([0.5, 0.25, 2], dtype: .float64))
    let y = (w * x).sum()
    #expect(y.dtype == .float64)
    y.backward()
    #expect(w.grad!.dtype == .float32)
    #expect(w.grad!.scalars == [0.5, 0.25, 2])
    #expect(x.grad!.dtype == .float64)
    #expect(x.grad!.scalars == [1, 2, 3])
  }

  /// Every registered op, with its first input in Float and the others in Double, gives the
  /// Double result to Float precision, and gradients of each input's own dtype.
  @Test(arguments: GradientCheck.all.filter { $0.inputs.count >= 2 })
  func everyOpPromotesMixedArguments(_ check: GradientCheck) {
    var rng = SeededGenerator(seed: 3)
    let values = check.inputs.map { input -> Tensor in
      var t = Tensor.uniform(input.shape, in: input.domain, dtype: .float64, using: &rng)
      if input.randomSign {
        for i in 0..<t.count where Bool.random(using: &rng) { t[flat: i] = -t[flat: i] }
      }
      // Values a Float holds exactly, so that both runs see the same inputs.
      return t.converted(to: .float32).converted(to: .float64)
    }
    let double = values.map { Var($0) }
    let mixed = values.enumerated().map { i, v in Var(i == 0 ? v.converted(to: .float32) : v) }
    let a = check.function(double)
    let b = check.function(mixed)
    #expect(a.shape == b.shape)
    #expect(maxDifference(a.value, b.value) <= 1e-4 * (1 + maxMagnitude(a.value)), "\(check.name)")
    let weights = Var.constant(Tensor.normal(a.shape, dtype: .float64, using: &rng))
    let la = (a * weights).sum()
    let lb = (b * weights).sum()
    la.backward()
    lb.backward()
    for (x, y) in zip(double, mixed) {
      guard let gx = x.grad else {
        #expect(y.grad == nil || maxMagnitude(y.grad!) == 0)
        continue
      }
      #expect(y.grad?.dtype == y.dtype)
      #expect(
        maxDifference(gx, y.grad ?? .zeros(gx.shape)) <= 1e-3 * (1 + maxMagnitude(gx)),
        "\(check.name)")
    }
  }

  /// The one default: whatever is made without a dtype is `Float`. (Layers, one-hot labels
  /// and datasets are pinned in NeuralNetworksTests' DefaultDTypeTests.)
  @Test func everythingMadeWithoutADTypeIsFloat() {
    #expect(DType.default == .float32)
    var rng = SeededGenerator(seed: 1)
    let tensors = [
      Tensor([1, 2]), Tensor([[1, 2], [3, 4]]), Tensor([1, 2], shape: [2, 1]), Tensor(scalar: 1),
      Tensor(repeating: 1, shape: [2]), Tensor.zeros([2]), Tensor.ones([2]),
      Tensor.normal([2], using: &rng), Tensor.uniform([2], using: &rng),
      Tensor.bernoulli([2], probability: 0.5, using: &rng),
    ]
    for (i, t) in tensors.enumerated() { #expect(t.dtype == .float32, "tensor \(i)") }
    let x = Var(3.0)
    #expect(x.dtype == .float32)
    #expect(Var(Tensor([1, 2])).dtype == .float32)
    #expect((x * 2 + 1).dtype == .float32)  // a literal takes the Var's dtype
    let labels = Var.labels([0, 2])
    #expect(labels.dtype == .float32)
    #expect(labels.oneHot(classes: 3).dtype == .float32)
    // Double is asked for, and then computed in.
    let d = Var(3.0, dtype: .float64)
    #expect(d.dtype == .float64 && (d * 2 + 1).dtype == .float64)
    #expect(Var.labels([0, 2], dtype: .float64).oneHot(classes: 3).dtype == .float64)
  }

  @Test func kernelsNeverReadABufferAsAnotherType() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let t = Tensor.ones([4], dtype: .float32)
      _ = t.withUnsafeBufferPointer(as: Double.self) { $0[0] }
    }.map { result in
      let text = String(decoding: result.standardErrorContent, as: UTF8.self)
      #expect(text.contains("element type Double does not match f32"))
    }
  }
}

func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
  zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func maxMagnitude(_ a: Tensor) -> Double {
  a.scalars.reduce(0) { max($0, abs($1)) }
}
