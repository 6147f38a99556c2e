import Autodiff
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

  @Test func detectsAWrongBackwardRule() {
    // An op whose rule forgets the factor 2 of d(x²)/dx must fail.
    let wrong = GradientCheck("wrong square", inputs: [.init([3])]) { x in
      Var(
        op: "wrongSquare", args: [x[0]],
        forward: { args, value in value = (args[0] * args[0]).value },
        vectorJacobianProduct: { args, _, s in [s * args[0]] })
    }
    #expect(!wrong.run().passed)
  }
}
