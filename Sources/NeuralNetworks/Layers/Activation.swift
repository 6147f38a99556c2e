import Autodiff

/// An elementwise activation function.
public enum ActivationFunction: Sendable, Hashable {
  case identity
  case sigmoid
  case tanh
  case relu
  case leakyRelu(alpha: Double)
  case elu(alpha: Double)
  case softplus
  /// Softmax over the last axis (for probabilities; losses usually take logits instead).
  case softmax

  /// Applies the function.
  public func callAsFunction(_ x: Var) -> Var {
    switch self {
    case .identity: return x
    case .sigmoid: return x.sigmoid()
    case .tanh: return x.tanh()
    case .relu: return x.relu()
    case .leakyRelu(let alpha): return x.leakyRelu(alpha: alpha)
    case .elu(let alpha): return x.elu(alpha: alpha)
    case .softplus: return x.softplus()
    case .softmax: return x.softmax()
    }
  }

  var name: String {
    switch self {
    case .identity: return "Identity"
    case .sigmoid: return "Sigmoid"
    case .tanh: return "Tanh"
    case .relu: return "ReLU"
    case .leakyRelu(let alpha): return "LeakyReLU(\(alpha))"
    case .elu(let alpha): return "ELU(\(alpha))"
    case .softplus: return "Softplus"
    case .softmax: return "Softmax"
    }
  }
}

/// A layer that applies an ``ActivationFunction``; it has no parameters.
public final class Activation: Module {
  public let function: ActivationFunction

  public init(_ function: ActivationFunction) { self.function = function }

  public override func callAsFunction(_ x: Var) -> Var { function(x) }

  public override var summary: String { function.name }
}
