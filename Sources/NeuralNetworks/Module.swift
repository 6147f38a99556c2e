import Autodiff

/// A building block of a network: a function of a `Var` with trainable parameters.
///
/// Subclasses override ``callAsFunction(_:)`` and list their parameters explicitly (or
/// their sub-modules in ``children``). Every module prints its structure with parameter
/// counts:
///
/// ```swift
/// var rng = SeededGenerator(seed: 0)
/// let mlp = MLP(sizes: [3, 4, 2], activation: .sigmoid, using: &rng)
/// print(mlp)
/// // MLP(3 → 4 → 2): 26 parameters
/// //   Linear(3 → 4): 16 parameters
/// //   Sigmoid
/// //   Linear(4 → 2): 10 parameters
/// ```
open class Module: CustomStringConvertible {
  public init() {}

  /// The module's own trainable parameters (not those of its children).
  open var ownParameters: [Var] { [] }

  /// The sub-modules, in order.
  open var children: [Module] { [] }

  /// Every trainable parameter: this module's own, then its children's.
  ///
  /// A module's structure is fixed once built, so the list is computed once.
  public var parameters: [Var] {
    if let cachedParameters { return cachedParameters }
    let all = ownParameters + children.flatMap(\.parameters)
    cachedParameters = all
    return all
  }
  private var cachedParameters: [Var]?

  /// The number of trainable scalars.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

  /// The module's own state that is not trained by gradients but used in evaluation, such
  /// as batch normalization's running averages: leaves that are saved and loaded with the
  /// parameters.
  open var ownBuffers: [Var] { [] }

  /// Every buffer: this module's own, then its children's.
  public var buffers: [Var] { ownBuffers + children.flatMap(\.buffers) }

  /// The module's own sources of randomness, such as dropout's: a checkpoint saves their
  /// state, so that a resumed run draws what an uninterrupted one would.
  open var ownRandomSources: [RandomSource] { [] }

  /// Every random source: this module's own, then its children's.
  public var randomSources: [RandomSource] {
    ownRandomSources + children.flatMap(\.randomSources)
  }

  /// Applies the module.
  open func callAsFunction(_ input: Var) -> Var {
    fatalError("\(type(of: self)) does not override callAsFunction(_:)")
  }

  /// Whether the module is in training mode (dropout active, batch statistics) or
  /// evaluation mode. Setting it sets it on every child.
  public var isTraining = true {
    didSet {
      if oldValue != isTraining { for child in children { child.isTraining = isTraining } }
    }
  }

  /// A one-line name for printing, such as `Linear(3 → 4)`.
  open var summary: String { String(describing: type(of: self)) }

  /// Sets the gradient of every parameter to zero.
  public func zeroGradients() {
    for p in parameters { p.zeroGradients() }
  }

  /// The module tree with parameter counts.
  public var description: String {
    var lines: [String] = []
    func render(_ module: Module, _ depth: Int) {
      let count = module.parameterCount
      let indent = String(repeating: "  ", count: depth)
      lines.append(indent + module.summary + (count > 0 ? ": \(count) parameters" : ""))
      for child in module.children { render(child, depth + 1) }
    }
    render(self, 0)
    return lines.joined(separator: "\n")
  }
}
