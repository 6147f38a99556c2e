import Autodiff

/// Modules applied one after another.
///
/// ```swift
/// let net = Sequential(
///   Linear(inputSize: 2, outputSize: 8, using: &rng), Activation(.tanh),
///   Linear(inputSize: 8, outputSize: 1, using: &rng))
/// ```
public class Sequential: Module {
  public let layers: [Module]

  public init(_ layers: [Module]) { self.layers = layers }
  public convenience init(_ layers: Module...) { self.init(layers) }

  public override var children: [Module] { layers }

  public override func callAsFunction(_ x: Var) -> Var {
    layers.reduce(x) { $1($0) }
  }

  public override var summary: String { "Sequential" }
}

/// A residual block: y = x + f(x), where f estimates an update to its input.
public final class Residual: Module {
  public let body: Module

  public init(_ body: Module) { self.body = body }

  public override var children: [Module] { [body] }

  public override func callAsFunction(_ x: Var) -> Var { x + body(x) }

  public override var summary: String { "Residual" }
}

/// Flattens every sample to a vector: [n, d₁, d₂, …] → [n, d₁·d₂·…].
public final class Flatten: Module {
  public override init() {}

  public override func callAsFunction(_ x: Var) -> Var { x.reshaped([x.shape[0], -1]) }

  public override var summary: String { "Flatten" }
}
