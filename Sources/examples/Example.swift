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
  /// The options the example reads, besides `--quick` and `--help`, which every example
  /// takes. Anything else on the command line is refused before the example runs.
  static var options: [Option] { get }
  /// Runs the example with the remaining command-line arguments.
  static func run(arguments: Arguments) throws
}

/// An example's claim did not hold.
struct ExampleFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// A wrong command line: an unknown option, a missing or malformed value. The process
/// exits with status 2, as for any command-line mistake.
struct UsageError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// One command-line option of an example: a flag (`--conv`) or a name with a value
/// (`--epochs 20`), with the range or the choices its value must be in.
struct Option: Sendable {
  /// What follows the option's name.
  enum Value: Sendable {
    case none
    case wholeNumber(ClosedRange<Int>)
    case number(ClosedRange<Double>)
    case text(placeholder: String)
    case choice([String])
  }

  var name: String
  var value: Value
  var help: String

  static func flag(_ name: String, _ help: String) -> Option {
    Option(name: name, value: .none, help: help)
  }
  static func int(_ name: String, in range: ClosedRange<Int> = 1...Int.max, _ help: String)
    -> Option
  {
    Option(name: name, value: .wholeNumber(range), help: help)
  }
  static func double(
    _ name: String,
    in range: ClosedRange<Double> = Double.leastNonzeroMagnitude...Double.greatestFiniteMagnitude,
    _ help: String
  ) -> Option {
    Option(name: name, value: .number(range), help: help)
  }
  static func string(_ name: String, placeholder: String = "TEXT", _ help: String) -> Option {
    Option(name: name, value: .text(placeholder: placeholder), help: help)
  }
  static func choice(_ name: String, _ choices: [String], _ help: String) -> Option {
    Option(name: name, value: .choice(choices), help: help)
  }

  /// `--quick`: the small run that CI makes of every example.
  static let quick = Option.flag("quick", "a small run, as CI makes of every example")
  /// `--help`: the example's options.
  static let help = Option.flag("help", "print the example's options and exit")
  /// `--seed N`: every random draw of the run.
  static let seed = Option.int("seed", in: 0...Int.max, "seed of every random draw of the run")
  /// `--epochs N`.
  static let epochs = Option.int("epochs", "number of passes over the training data")
  /// `--plot DIR`.
  static let plot = Option.string(
    "plot", placeholder: "DIR", "directory to write the example's SVG figures to")

  /// How the option looks in a usage line: `--epochs N`.
  var usage: String {
    switch value {
    case .none: "--\(name)"
    case .wholeNumber: "--\(name) N"
    case .number: "--\(name) X"
    case .text(let placeholder): "--\(name) \(placeholder)"
    case .choice(let choices): "--\(name) \(choices.joined(separator: "|"))"
    }
  }
}

extension Example {
  /// Every option the example accepts, the common ones first.
  static var acceptedOptions: [Option] { [.quick, .help] + options }

  /// The example's options, one per line, for `--help`.
  static var usage: String {
    let options = acceptedOptions
    let width = options.map(\.usage.count).max() ?? 0
    let lines = options.map {
      "  \($0.usage.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.help)"
    }
    return (["usage: swift run examples \(name) [options]", "", summary, "", "options:"] + lines)
      .joined(separator: "\n")
  }
}

/// The command line of one example, checked against the options it declares.
struct Arguments {
  private let declared: [String: Option]
  private var values: [String: String] = [:]
  private var flags: Set<String> = []

  /// Parses `--name value` pairs and `--flag`s. Throws, naming the argument, for an option
  /// not in `options`, a missing value, or anything that is not an option.
  init(_ arguments: [String], options: [Option], example: String = "the example") throws {
    declared = Dictionary(options.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    var i = 0
    while i < arguments.count {
      let argument = arguments[i]
      guard argument.hasPrefix("--"), argument.count > 2 else {
        throw UsageError("unexpected argument '\(argument)': options look like --name value")
      }
      let name = String(argument.dropFirst(2))
      guard let option = declared[name] else {
        let names = options.map(\.name)
        let hint = Arguments.closest(to: name, among: names).map { "; did you mean --\($0)?" } ?? ""
        throw UsageError(
          "unknown option --\(name) for \(example)\(hint) (options: \(names.map { "--" + $0 }.joined(separator: ", ")))"
        )
      }
      if case .none = option.value {
        flags.insert(name)
        i += 1
      } else {
        guard i + 1 < arguments.count else {
          throw UsageError("option --\(name) expects a value")
        }
        values[name] = arguments[i + 1]
        i += 2
      }
    }
  }

  /// Whether `--name` was given.
  func flag(_ name: String) -> Bool {
    checkDeclared(name)
    return flags.contains(name)
  }

  /// The whole number after `--name`, or `fallback`; throws when the value is not a whole
  /// number in the option's range.
  func int(_ name: String, default fallback: Int) throws -> Int {
    guard case .wholeNumber(let range) = checkDeclared(name).value else {
      fatalError("examples: option --\(name) is not declared as a whole number")
    }
    guard let text = values[name] else { return fallback }
    guard let value = Int(text), range.contains(value) else {
      throw UsageError(
        "option --\(name) expects a whole number \(Arguments.describe(range)), got '\(text)'")
    }
    return value
  }

  /// The seed after `--seed`, or `fallback`.
  func seed(default fallback: UInt64) throws -> UInt64 {
    UInt64(try int("seed", default: Int(fallback)))
  }

  /// The number after `--name`, or `fallback`; throws when the value is not a finite number
  /// in the option's range.
  func double(_ name: String, default fallback: Double) throws -> Double {
    guard case .number(let range) = checkDeclared(name).value else {
      fatalError("examples: option --\(name) is not declared as a number")
    }
    guard let text = values[name] else { return fallback }
    guard let value = Double(text), value.isFinite, range.contains(value) else {
      throw UsageError(
        "option --\(name) expects a number \(Arguments.describe(range)), got '\(text)'")
    }
    return value
  }

  /// The text after `--name`, if given.
  func string(_ name: String) -> String? {
    checkDeclared(name)
    return values[name]
  }

  /// The choice after `--name`, or `fallback`; throws when the value is not one of the
  /// option's choices.
  func choice(_ name: String, default fallback: String) throws -> String {
    guard case .choice(let choices) = checkDeclared(name).value else {
      fatalError("examples: option --\(name) is not declared as a choice")
    }
    guard let text = values[name] else { return fallback }
    guard choices.contains(text) else {
      throw UsageError(
        "option --\(name) expects one of \(choices.joined(separator: ", ")), got '\(text)'")
    }
    return text
  }

  private static func describe(_ range: ClosedRange<Int>) -> String {
    range.upperBound == Int.max
      ? "of at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
  }

  private static func describe(_ range: ClosedRange<Double>) -> String {
    if range.lowerBound == Double.leastNonzeroMagnitude
      && range.upperBound == Double.greatestFiniteMagnitude
    {
      return "above 0"
    }
    if range.upperBound == Double.greatestFiniteMagnitude {
      return "of at least \(range.lowerBound)"
    }
    return "from \(range.lowerBound) to \(range.upperBound)"
  }

  /// An example that reads an option it did not declare is a programming error: the
  /// option could never be given.
  @discardableResult
  private func checkDeclared(_ name: String) -> Option {
    guard let option = declared[name] else {
      fatalError("examples: option --\(name) is read but not declared in the example's options")
    }
    return option
  }

  /// The declared name within two edits of `name`, if one is.
  static func closest(to name: String, among names: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
      var previous = Array(0...b.count)
      for (i, x) in a.enumerated() {
        var current = [i + 1]
        for (j, y) in b.enumerated() {
          current.append(
            Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
      }
      return previous[b.count]
    }
    let scored = names.map { ($0, distance(Array(name), Array($0))) }.filter { $0.1 <= 2 }
    return scored.min { $0.1 < $1.1 }?.0
  }
}
