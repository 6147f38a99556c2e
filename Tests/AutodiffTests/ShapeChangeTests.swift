import Autodiff
import Foundation
import Testing

/// A built graph evaluated again after its inputs change shape: every op recomputes what
/// depends on the shapes, so the values and gradients are those of a graph built afresh.
@Suite("Re-evaluation with new shapes")
struct ShapeChangeTests {
  /// An expression of one input, the input's shape before and after.
  struct Case: Sendable, CustomStringConvertible {
    var description: String
    var before: [Int]
    var after: [Int]
    var function: @Sendable (Var) -> Var
  }

  static let cases: [Case] = [
    Case(description: "mean", before: [4, 1], after: [2, 1]) { $0.mean() },
    Case(description: "mean along an axis", before: [4, 3], after: [6, 3]) {
      $0.mean(along: 0).sum()
    },
    Case(description: "sum along an axis, then mean", before: [4, 3], after: [2, 3]) {
      $0.sum(along: 1).mean()
    },
    Case(description: "mean squared error", before: [4, 3], after: [5, 3]) {
      meanSquaredError(predicted: $0, target: $0.squared() * 0.5)
    },
    Case(description: "binary cross-entropy (fused)", before: [4, 3], after: [2, 3]) {
      binaryCrossEntropy(predicted: $0.sigmoid(), target: ($0 * 0.5).sigmoid())
    },
    Case(description: "binary cross-entropy (composed)", before: [4, 3], after: [2, 3]) {
      composedBinaryCrossEntropy(predicted: $0.sigmoid(), target: ($0 * 0.5).sigmoid())
    },
    Case(description: "binary cross-entropy (logits)", before: [4, 3], after: [7, 3]) {
      binaryCrossEntropy(logits: $0, target: ($0 * 0.5).sigmoid())
    },
    Case(description: "KL divergence", before: [4, 2], after: [3, 2]) {
      gaussianKLDivergence(mean: $0, logVariance: $0 * 0.3)
    },
    Case(description: "cross-entropy (soft targets)", before: [4, 3], after: [6, 3]) {
      crossEntropy(logits: $0, target: ($0 * 2).softmax())
    },
    Case(description: "cross-entropy over steps", before: [2, 3, 4], after: [3, 5, 4]) {
      let rows = $0.reshaped([-1, 4])
      return crossEntropy(logits: rows, target: (rows * 2).softmax())
    },
    Case(description: "reshape with an inferred dimension", before: [4, 6], after: [2, 6]) {
      ($0.reshaped([-1, 3]) * $0.reshaped([-1, 3])).sum()
    },
    Case(description: "rows times a matrix", before: [2, 3, 2], after: [3, 4, 2]) {
      $0.matmul(Var.constant(Tensor([[1, 2, 3], [-1, 0.5, 2]], dtype: .float64))).tanh().sum()
    },
    Case(description: "softmax and log-sum-exp", before: [3, 4], after: [5, 4]) {
      $0.softmax().squared().sum() + $0.logSumExp(along: 1).sum()
    },
    Case(description: "max along an axis", before: [3, 4], after: [5, 4]) {
      $0.max(along: 0).sum()
    },
    Case(description: "stack", before: [3], after: [5]) {
      Var.stack([$0, $0.squared()], along: 1).sum(along: 0).squared().sum()
    },
    Case(description: "last along an axis", before: [2, 3, 2], after: [2, 5, 2]) {
      $0.last(along: 1).squared().sum()
    },
    Case(description: "concatenate", before: [2, 3], after: [4, 3]) {
      Var.concatenate([$0, $0.sin()], along: 1).squared().mean()
    },
    Case(description: "transpose and product", before: [3, 2], after: [5, 2]) {
      $0.transposed().matmul($0).sum()
    },
    Case(description: "normalization over features", before: [4, 3], after: [2, 3]) { x in
      let centered = x - x.mean(along: -1, keepingDimensions: true)
      return
        (centered
        / (centered.squared().mean(along: -1, keepingDimensions: true) + 1e-5)
        .sqrt()).squared().sum()
    },
  ]

  @Test(arguments: cases)
  func followsANewShape(_ example: Case) {
    var rng = SeededGenerator(seed: 5)
    let x = Var(Tensor.normal(example.before, dtype: .float64, using: &rng))
    let y = example.function(x)
    _ = gradients(of: y, withRespectTo: [x])
    let newValue = Tensor.normal(example.after, dtype: .float64, using: &rng)
    x.set(newValue)
    y.evaluate()
    let again = gradients(of: y, withRespectTo: [x])[0].value
    x.grad = nil
    y.backward()

    let fresh = Var(newValue)
    let expected = example.function(fresh)
    let expectedGradient = gradients(of: expected, withRespectTo: [fresh])[0].value
    #expect(abs(y.value.scalar - expected.value.scalar) < 1e-12, "\(example)")
    #expect(again.shape == example.after)
    #expect(maxDifference(again, expectedGradient) < 1e-12, "\(example)")
    #expect(maxDifference(x.grad!, expectedGradient) < 1e-12, "\(example)")
  }

  /// The tracker's example: the mean of 1…4 is 2.5; after `set` to [[1], [2]] it is 1.5.
  @Test func meanOfANewShape() {
    let x = Var(Tensor([1, 2, 3, 4], shape: [4, 1]))
    let m = x.mean()
    #expect(m.value.scalar == 2.5)
    x.set(Tensor([[1], [2]]))
    m.evaluate()
    #expect(m.value.scalar == 1.5)
  }

  @Test func anUnrolledStructureRefusesANewShapeNamingItsOwner() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Var(Tensor.zeros([2, 3]))
      let y = x.guardingShape(for: "LSTM(3 → 4)").sum()
      x.set(Tensor.zeros([5, 3]))
      y.evaluate()
    }.map { result in
      let text = String(decoding: result.standardErrorContent, as: UTF8.self)
      #expect(
        text.contains(
          "LSTM(3 → 4): built for an input of shape [2, 3], evaluated with [5, 3]; build the graph again"
        ))
    }
  }

  @Test func unfoldRefusesAnImageOfAnotherShape() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Var(Tensor.zeros([1, 1, 4, 4]))
      let y = x.unfolded(kernelSize: 2).sum()
      x.set(Tensor.zeros([2, 1, 4, 4]))
      y.evaluate()
    }.map { result in
      let text = String(decoding: result.standardErrorContent, as: UTF8.self)
      #expect(
        text.contains(
          "unfold: built for an image of shape [1, 1, 4, 4], evaluated with [2, 1, 4, 4]"))
    }
  }
}

/// Gradients are those of the current values: a backward pass after `set` re-evaluates.
@Suite("Stale graphs")
struct StaleGraphTests {
  @Test func backwardAfterSetWithoutEvaluateUsesTheNewPoint() {
    let x = Var(3.0)
    let y = x * x * x  // dy/dx = 3x²
    y.backward()
    #expect(x.grad!.scalar == 27)
    x.set(Tensor(scalar: 1))
    x.grad = nil
    y.backward()
    #expect(x.grad!.scalar == 3)
    #expect(y.value.scalar == 1)
    #expect(gradients(of: y, withRespectTo: [x])[0].value.scalar == 3)
  }

  @Test func anUpdateInPlaceIsSeenToo() {
    let w = Var(Tensor([1, 2]))
    let loss = (w * w).sum()
    loss.backward()
    w.updateValue { $0 = Tensor([3, 4]) }
    w.grad = nil
    loss.backward()
    #expect(w.grad == Tensor([6, 8]))
    #expect(loss.value.scalar == 25)
  }

  @Test func aNonScalarOutputNeedsASeed() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Var(Tensor([1, 2, 3]))
      (x * 2).backward()
    }.map { result in
      let text = String(decoding: result.standardErrorContent, as: UTF8.self)
      #expect(text.contains("backward: the output has shape [3]; pass a seed of that shape"))
    }
    let x = Var(Tensor([1, 2, 3]))
    (x * 2).backward(Tensor([1, 0, 1]))
    #expect(x.grad == Tensor([2, 0, 2]))
  }
}
