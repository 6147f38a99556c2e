import Autodiff

/// A runnable demonstration: `swift run examples NAME [options]`.
///
/// An example prints what it shows, checks its own claim, and throws
/// ``ExampleFailure`` when the claim does not hold, so that the process exits non-zero.
protocol Example {
  /// The name on the command line.
  static var name: String { get }
  /// One line for the list of examples.
  static var summary: String { get }
  /// Runs the example with the remaining command-line arguments.
  static func run(arguments: Arguments) throws
}

/// An example's claim did not hold.
struct ExampleFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Command-line options of the form `--name value` and flags of the form `--flag`.
struct Arguments {
  private var values: [String: String] = [:]
  private var flags: Set<String> = []

  /// Parses `--name value` pairs and `--flag`s, naming any argument it does not understand.
  init(_ arguments: [String], flags known: Set<String> = ["quick", "conv", "lstm"]) throws {
    var i = 0
    while i < arguments.count {
      let argument = arguments[i]
      guard argument.hasPrefix("--") else {
        throw ExampleFailure("unexpected argument '\(argument)': options look like --name value")
      }
      let name = String(argument.dropFirst(2))
      if known.contains(name) {
        flags.insert(name)
        i += 1
      } else {
        guard i + 1 < arguments.count else {
          throw ExampleFailure("option --\(name) expects a value")
        }
        values[name] = arguments[i + 1]
        i += 2
      }
    }
  }

  /// Whether `--name` was given.
  func flag(_ name: String) -> Bool { flags.contains(name) }

  /// The integer after `--name`, or `fallback`.
  func int(_ name: String, default fallback: Int) throws -> Int {
    guard let text = values[name] else { return fallback }
    guard let value = Int(text) else {
      throw ExampleFailure("option --\(name) expects a whole number, got '\(text)'")
    }
    return value
  }

  /// The number after `--name`, or `fallback`.
  func double(_ name: String, default fallback: Double) throws -> Double {
    guard let text = values[name] else { return fallback }
    guard let value = Double(text) else {
      throw ExampleFailure("option --\(name) expects a number, got '\(text)'")
    }
    return value
  }

  /// The text after `--name`, if given.
  func string(_ name: String) -> String? { values[name] }
}
