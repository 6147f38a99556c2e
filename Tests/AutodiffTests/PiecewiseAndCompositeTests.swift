import Autodiff
import Foundation
import Testing

/// Gradients through composite ops with repeated arguments, and gradient graphs through
/// piecewise ops evaluated again at a point on another branch.
@Suite("Composite ops and piecewise gradients")
struct PiecewiseAndCompositeTests {
  @Test func compositeGivenTheSameNodeTwiceCountsItsGradientOnce() {
    let x = Var(0.5)
    let y = Var.composite(name: "mul", args: [x, x]) { $0[0] * $0[1] }
    y.sum().backward()
    #expect(x.grad!.scalar == 1.0)
    let viaRules = gradients(of: y, withRespectTo: [x])[0].value.scalar
    #expect(viaRules == 1.0)
  }

  @Test func fusedLossGivenTheSameNodeTwiceAgreesWithBackward() {
    let p = Var(0.3, dtype: .float64)
    let loss = binaryCrossEntropy(predicted: p, target: p)
    let viaRules = gradients(of: loss, withRespectTo: [p])[0].value.scalar
    loss.backward()
    // d/dp of −(p ln p + (1 − p) ln(1 − p)) = ln((1 − p)/p).
    let exact = Foundation.log(0.7 / 0.3)
    #expect(abs(p.grad!.scalar - exact) < 1e-12)
    #expect(abs(viaRules - exact) < 1e-12)
  }

  @Test func secondDerivativeThroughAFusedOpWithARepeatedArgument() {
    let p = Var(0.3, dtype: .float64)
    let loss = binaryCrossEntropy(predicted: p, target: p)
    let first = gradients(of: loss, withRespectTo: [p], createGraph: true)[0]
    let second = gradients(of: first, withRespectTo: [p])[0].value.scalar
    // d²/dp² = −1/p − 1/(1 − p).
    #expect(abs(second - (-1 / 0.3 - 1 / 0.7)) < 1e-9)
  }

  /// Each piecewise op, its input on one branch, then on the other.
  static let piecewise: [(name: String, f: @Sendable (Var) -> Var, before: Double, after: Double)] =
    [
      ("relu", { $0.relu() }, -1, 2),
      ("leakyRelu", { $0.leakyRelu(alpha: 0.1) }, -1, 2),
      ("elu", { $0.elu(alpha: 0.5) }, -1, 2),
      ("clamp", { $0.clamped(to: -0.5...0.5) }, 2, 0.25),
      ("maximum", { Var.maximum($0, $0 * 0 + 0.3) }, -1, 2),
      ("minimum", { Var.minimum($0, $0 * 0 + 0.3) }, -1, 2),
      ("abs", { $0.abs() }, -1, 2),
      ("max", { Var.stack([$0, $0 * 0 + 0.3]).max() }, -1, 2),
    ]

  @Test(arguments: piecewise.indices)
  func gradientGraphFollowsTheBranchAtTheNewPoint(_ index: Int) {
    let (name, f, before, after) = Self.piecewise[index]
    let z = Var(before)
    let dz = gradients(of: f(z).sum(), withRespectTo: [z], createGraph: true)[0]
    z.set(Tensor(scalar: after))
    dz.evaluate()
    let fresh = Var(after)
    let expected = gradients(of: f(fresh).sum(), withRespectTo: [fresh])[0].value.scalar
    #expect(dz.value.scalar == expected, "\(name): \(dz.value.scalar) vs \(expected)")
    // The two points are on branches with different slopes, so a baked mask would fail.
    let old = Var(before)
    #expect(gradients(of: f(old).sum(), withRespectTo: [old])[0].value.scalar != expected)
  }

  @Test func reluGradientGraphFromTheIssue() {
    let z = Var(-1.0)
    let dz = gradients(of: z.relu().sum(), withRespectTo: [z], createGraph: true)[0]
    #expect(dz.value.scalar == 0)
    z.set(Tensor(scalar: 2))
    dz.evaluate()
    #expect(dz.value.scalar == 1)
  }

  @Test func dropoutGradientGraphUsesTheMaskOfTheLatestEvaluation() {
    let source = RandomSource(seed: 5)
    let x = Var(Tensor.ones([200]))
    let y = x.dropout(rate: 0.5, source: source) { true }
    let dx = gradients(of: y.sum(), withRespectTo: [x], createGraph: true)[0]
    dx.evaluate()  // draws a new mask for y, which the gradient must follow
    #expect(dx.value == y.value)
  }

  @Test func stackAcceptsNegativeAxes() {
    let a = Var(Tensor([1, 2, 3]))
    let b = Var(Tensor([4, 5, 6]))
    #expect(Var.stack([a, b], along: -1).value == Var.stack([a, b], along: 1).value)
    #expect(Var.stack([a, b], along: -2).value == Var.stack([a, b], along: 0).value)
  }

  @Test func reducingAScalarAlongAnAxisIsRefusedWithAMessage() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Var(2.0).sum(along: 0)
    }.map { result in
      let text = String(decoding: result.standardErrorContent, as: UTF8.self)
      #expect(text.contains("sum: axis 0 out of range for shape []"))
    }
  }
}
