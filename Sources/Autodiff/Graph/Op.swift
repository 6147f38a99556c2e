/// Computes an op's value from its arguments into `value`, reusing its storage when the shape
/// is unchanged.
public typealias ForwardFunction = (_ args: [Var], _ value: inout Tensor) -> Void

/// The differentiable backward rule of an op: given its arguments, its output and the
/// upstream gradient `s` = ∂L/∂output, returns ∂L/∂arg for each argument (nil for none),
/// built from `Var` operations so that gradients can themselves be differentiated.
public typealias VectorJacobianProduct = (_ args: [Var], _ output: Var, _ upstream: Var) -> [Var?]

/// A fast backward rule working on tensors: adds each argument's contribution to its `grad`
/// with ``Var/accumulateGradient(_:)`` or ``Var/withGradientBuffer(_:)``.
public typealias BackwardFunction = (_ args: [Var], _ output: Var, _ upstream: Tensor) -> Void

/// An operation in an expression graph: the creator of a derived ``Var``.
///
/// An `Op` keeps its argument `Var`s, a forward function that computes its value from theirs,
/// and the backward rule that turns the upstream gradient into gradients for its arguments.
/// Rules receive the arguments and the output as parameters instead of capturing them, so an
/// op never holds its own output (no reference cycle) and a re-evaluated graph reads the new
/// values.
public final class Op: CustomStringConvertible {
  /// The op's name, as printed in expressions and graphs (`matmul`, `sigmoid`).
  public let name: String
  /// The arguments, in order.
  @exclusivity(unchecked) public internal(set) var args: [Var]
  /// A symbol such as `+` when the op prints between its two arguments.
  public let infixSymbol: String?
  let forward: ForwardFunction
  let vectorJacobianProduct: VectorJacobianProduct
  let backward: BackwardFunction?
  /// The op's function on single numbers, for elementwise ops (see ``CompiledReplay``).
  var scalarRule: ScalarRule?

  init(
    name: String, args: [Var], infixSymbol: String?, forward: @escaping ForwardFunction,
    vectorJacobianProduct: @escaping VectorJacobianProduct, backward: BackwardFunction?
  ) {
    self.name = name
    self.args = args
    self.infixSymbol = infixSymbol
    self.forward = forward
    self.vectorJacobianProduct = vectorJacobianProduct
    self.backward = backward
  }

  /// The name and the arguments' shapes, such as `matmul([32, 784], [784, 256])`.
  public var description: String {
    name + "(" + args.map { "\($0.shape)" }.joined(separator: ", ") + ")"
  }
}
