import Autodiff
import Foundation
import Testing

@Suite("Gradient checks")
struct GradientCheckTests {
  @Test("every op's gradient matches central finite differences", arguments: GradientCheck.all)
  func op(_ check: GradientCheck) {
    let result = check.run()
    #expect(result.passed, "\(result)")
  }

  @Test func registryCoversManyDistinctChecks() {
    let names = Set(GradientCheck.all.map(\.name))
    #expect(names.count == GradientCheck.all.count)
    #expect(names.count >= 40)
  }

  /// Op files that define no gradient check, and why.
  static let filesWithoutChecks: [String: String] = [
    "Forms/ElementwiseAlgebra.swift": "the machinery of elementwise ops, checked through them",
    "Forms/ElementwiseOp.swift": "the machinery of elementwise ops, checked through them",
    "Forms/PiecewiseConstant.swift": "the machinery of piecewise-constant ops (no gradient)",
    "Forms/SavedState.swift": "what forwards save for backwards: storage, not an op",
    "LinearAlgebra/BatchedMatrixProduct.swift":
      "the layout and kernels of matmul's batched forms, whose checks are in MatrixProduct.swift",
    "Losses/LossReduction.swift": "the reduction enum of the losses",
    "Reductions/Count.swift": "a count is piecewise constant: no gradient to check",
  ]

  /// Every check written in an op file is in the registry, and every op file has one (or a
  /// written reason): a new op cannot ship without its gradient check running in CI.
  @Test func everyOpFileHasItsChecksInTheRegistry() throws {
    let ops = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Sources/Autodiff/Ops").standardized
    let registered = Set(GradientCheck.all.map(\.name))
    let files = try FileManager.default.subpathsOfDirectory(atPath: ops.path)
      .filter { $0.hasSuffix(".swift") }.sorted()
    #expect(files.count >= 50, "found only \(files.count) op files under \(ops.path)")
    let pattern = try Regex(#"GradientCheck\(\s*"([^"]+)""#)
    for file in files {
      let text = try String(contentsOf: ops.appendingPathComponent(file), encoding: .utf8)
      let names = text.matches(of: pattern).map { String($0.output[1].substring!) }
      if Self.filesWithoutChecks[file] == nil {
        #expect(!names.isEmpty, "\(file) defines no gradient check")
      }
      for name in names {
        #expect(registered.contains(name), "\(file): check \"\(name)\" is not in GradientCheck.all")
      }
    }
  }

  @Test func detectsAWrongBackwardRule() {
    // An op whose rule forgets the factor 2 of d(x²)/dx must fail.
    let wrong = GradientCheck("wrong square", inputs: [.init([3])]) { x in
      Var(
        op: "wrongSquare", args: [x[0]],
        forward: { args, value in value = (args[0] * args[0]).value },
        vectorJacobianProduct: { args, _, s in [s * args[0]] })
    }
    let result = wrong.run()
    #expect(!result.passed)
    #expect(result.description.contains("backward() differs from central finite differences"))
  }

  @Test func namesTheRuleThatDisagrees() {
    // The fast backward is right; the differentiable rule forgets the factor 2.
    let wrongRule = GradientCheck("wrong rule", inputs: [.init([3])]) { x in
      Var(
        op: "wrongRule", args: [x[0]],
        forward: { args, value in value = (args[0] * args[0]).value },
        vectorJacobianProduct: { args, _, s in [s * args[0]] },
        backward: { args, _, s in
          args[0].accumulateGradient((Var.constant(s) * Var.constant(args[0].value) * 2).value)
        })
    }
    let result = wrongRule.run()
    #expect(!result.passed)
    #expect(result.description.contains("differentiable rules"), "\(result)")
    #expect(!result.description.contains("finite differences ("), "\(result)")
  }

  @Test func holdsFloatToDouble() {
    // Right in Double, 1e-3 off in Float: only the Float comparison can see it.
    let floatOnlyBug = GradientCheck("Float-only bug", inputs: [.init([4])]) { x in
      x[0].dtype == .float32 ? x[0] * 1.001 : x[0]
    }
    let result = floatOnlyBug.run()
    #expect(!result.passed)
    #expect(result.description.contains("Float value or gradients"), "\(result)")
    #expect(result.maxAbsoluteError < 1e-8)
  }
}
