import Foundation

/// Every example, in the order `swift run examples` lists them.
var examples: [any Example.Type] {
  [
    NeuronsExample.self,
    GradientCheckExample.self,
    PerceptronExample.self,
    XORExample.self,
    SineExample.self,
    IrisExample.self,
    DigitsExample.self,
    ProteinExample.self,
    OverfittingExample.self,
    VanishingExample.self,
    AutoencoderExample.self,
    HopfieldExample.self,
    ModernHopfieldExample.self,
    RNNExample.self,
    LSTMExample.self,
    CharLMExample.self,
    TransformerExample.self,
    VAEExample.self,
  ]
}

@main
enum Main {
  static func main() {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments == ["--names"] {
      for example in examples { print(example.name) }
      return
    }
    guard let name = arguments.first, !name.hasPrefix("-") else {
      print("usage: swift run examples NAME [--quick] [options]\n\nexamples:")
      let width = examples.map { $0.name.count }.max() ?? 0
      for example in examples {
        print(
          "  \(example.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(example.summary)"
        )
      }
      return
    }
    guard let example = examples.first(where: { $0.name == name }) else {
      FileHandle.standardError.write(
        "examples: no example named '\(name)'; run without arguments for the list\n".data(
          using: .utf8)!)
      exit(2)
    }
    do {
      let parsed = try Arguments(
        Array(arguments.dropFirst()), options: example.acceptedOptions, example: name)
      if parsed.flag("help") {
        print(example.usage)
        return
      }
      try example.run(arguments: parsed)
    } catch let mistake as UsageError {
      FileHandle.standardError.write(
        "\(name): \(mistake)\nrun 'swift run examples \(name) --help' for its options\n".data(
          using: .utf8)!)
      exit(2)
    } catch {
      FileHandle.standardError.write("\(name): \(error)\n".data(using: .utf8)!)
      exit(1)
    }
  }
}
