import Autodiff
import Foundation
import Testing

// The code of docs/custom-ops.md, compiled and checked: one function, log cosh, written the
// three ways a user can write an op.

extension Var {
  /// 1. Composed from existing ops: log cosh x = x + softplus(−2x) − ln 2, which never
  /// overflows. The gradient comes free.
  func logCoshComposed() -> Var {
    self + (-2 * self).softplus() - Foundation.log(2.0)
  }

  /// 2. A new op with its own rule. Backward: ∂L/∂x = s · tanh x.
  func logCosh() -> Var {
    Var(
      op: "logCosh", args: [self],
      forward: { args, value in
        value = args[0].value.map { x in
          Swift.abs(x) + Foundation.log1p(Foundation.exp(-2 * Swift.abs(x))) - Foundation.log(2.0)
        }
      },
      vectorJacobianProduct: { args, _, s in [s * args[0].tanh()] })
  }

  /// 3. The same op with a fast backward on tensors beside its differentiable rule.
  func logCoshFast() -> Var {
    Var(
      op: "logCosh", args: [self],
      forward: { args, value in
        value = args[0].value.map { x in
          Swift.abs(x) + Foundation.log1p(Foundation.exp(-2 * Swift.abs(x))) - Foundation.log(2.0)
        }
      },
      vectorJacobianProduct: { args, _, s in [s * args[0].tanh()] },
      backward: { args, _, s in
        guard args[0].requiresGrad else { return }
        args[0].accumulateGradient(s * args[0].value.map { Foundation.tanh($0) })
      })
  }
}

@Suite("Custom op guide")
struct CustomOpGuideTests {
  @Test(arguments: ["composed", "own rule", "fast backward"])
  func softsignPassesItsGradientCheck(_ form: String) {
    let check = GradientCheck(
      "log cosh, \(form)", inputs: [.init([3, 4], in: -3...3)]
    ) { x in
      switch form {
      case "composed": x[0].logCoshComposed()
      case "own rule": x[0].logCosh()
      default: x[0].logCoshFast()
      }
    }
    let result = check.run()
    #expect(result.passed, "\(result)")
  }

  @Test func theGuidesPrintedLine() {
    let check = GradientCheck("log cosh", inputs: [.init([3, 4], in: -3...3)]) { x in
      x[0].logCoshFast()
    }
    let result = check.run()
    #expect(result.description.hasPrefix("log cosh: max abs "), "\(result)")
    #expect(
      result.description.hasSuffix(", Float \(String(format: "%.1e", result.floatMismatch!)): ok"))
  }

  @Test func anExistingGraphCanBeChecked() {
    var rng = SeededGenerator(seed: 1)
    let w = Var(Tensor.normal([3, 2], dtype: .float64, using: &rng))
    let x = Var(Tensor.normal([4, 3], dtype: .float64, using: &rng))
    let y = x.matmul(w).logCosh()
    let result = GradientCheck.check(y, withRespectTo: [x, w], name: "log cosh layer")
    #expect(result.passed, "\(result)")
  }

  @Test func aWrongRuleIsCaught() {
    let wrong = GradientCheck("log cosh, wrong", inputs: [.init([5], in: 0.1...3)]) { x in
      Var(
        op: "logCosh", args: [x[0]],
        forward: { args, value in value = args[0].value.map { Foundation.log(Foundation.cosh($0)) }
        },
        vectorJacobianProduct: { args, _, s in [s * args[0].sigmoid()] })  // not tanh
    }
    #expect(!wrong.run().passed)
  }
}
