import Autodiff

/// Runs the finite-difference check of every op and prints one line per check.
enum GradientCheckExample: Example {
  static let name = "gradcheck"
  static let summary = "check every op's gradient against central finite differences"

  static let options: [Option] = []

  static func run(arguments: Arguments) throws {
    var passed = 0
    var failed = 0
    for check in GradientCheck.all {
      let result = check.run()
      print(result)
      if result.passed { passed += 1 } else { failed += 1 }
    }
    print("gradcheck: \(passed) passed, \(failed) failed")
    if failed > 0 { throw ExampleFailure("\(failed) gradient checks failed") }
  }
}
