import Autodiff

/// An elementwise activation function: a name and the op it applies.
///
/// Each one is a line below; a new activation is one more line, naming an op of the
/// engine (or a composition of ops).
///
/// ```swift
/// let mlp = MLP(sizes: [2, 8, 1], activation: .tanh, using: &rng)
/// let swish = ActivationFunction("Swish") { $0 * $0.sigmoid() }
/// ```
public struct ActivationFunction: Sendable, Hashable, CustomStringConvertible {
  /// The name printed in a module's structure, such as `ReLU`.
  public let name: String
  private let apply: @Sendable (Var) -> Var

  /// An activation named `name` that applies `function`.
  public init(_ name: String, _ function: @escaping @Sendable (Var) -> Var) {
    self.name = name
    apply = function
  }

  /// Applies the function.
  public func callAsFunction(_ x: Var) -> Var { apply(x) }

  public var description: String { name }

  /// Activations are equal when their names are.
  public static func == (a: ActivationFunction, b: ActivationFunction) -> Bool {
    a.name == b.name
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(name) }

  public static let identity = ActivationFunction("Identity") { $0 }
  public static let sigmoid = ActivationFunction("Sigmoid") { $0.sigmoid() }
  public static let tanh = ActivationFunction("Tanh") { $0.tanh() }
  public static let relu = ActivationFunction("ReLU") { $0.relu() }
  public static let softplus = ActivationFunction("Softplus") { $0.softplus() }
  /// Softmax over the last axis (for probabilities; losses usually take logits instead).
  public static let softmax = ActivationFunction("Softmax") { $0.softmax() }
  public static func leakyRelu(alpha: Double) -> ActivationFunction {
    ActivationFunction("LeakyReLU(\(alpha))") { $0.leakyRelu(alpha: alpha) }
  }
  public static func elu(alpha: Double) -> ActivationFunction {
    ActivationFunction("ELU(\(alpha))") { $0.elu(alpha: alpha) }
  }
}

/// A layer that applies an ``ActivationFunction``; it has no parameters.
public final class Activation: Module {
  public let function: ActivationFunction

  public init(_ function: ActivationFunction) { self.function = function }

  public override func callAsFunction(_ x: Var) -> Var { function(x) }

  public override var summary: String { function.name }
}
