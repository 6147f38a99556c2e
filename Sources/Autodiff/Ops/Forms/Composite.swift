extension Var {
  /// An op whose value is that of a composed expression, computed as one node.
  ///
  /// `body` builds the expression from the arguments. The forward evaluates it without
  /// recording; the backward rebuilds it on the arguments and differentiates through it, so
  /// the rule is exactly the composition's (and differentiable again). Use it for a layer
  /// whose computation changes with a mode read at evaluation time, such as batch
  /// normalization in training or evaluation.
  ///
  /// Backward: the vector–Jacobian product of `body`, ∂L/∂argᵢ = (∂body/∂argᵢ)ᵀ s.
  public static func composite(name: String, args: [Var], _ body: @escaping ([Var]) -> Var) -> Var {
    Var(
      op: name, args: args,
      forward: { args, value in
        value.assign(noGrad { body(args.map { Var.constant($0.value) }) }.value)
      },
      vectorJacobianProduct: composedVectorJacobianProduct(body))
  }
}

extension Var {
  /// A fused op: a fast forward and backward written on tensors, with the differentiable
  /// rule taken from the `composed` expression it replaces. The composed expression is the
  /// fused op's oracle: the gradient check compares the two rules.
  ///
  /// Backward: `backward` (fast path) or the vector–Jacobian product of `composed`.
  public static func fused(
    name: String, args: [Var], forward: @escaping ForwardFunction,
    backward: @escaping BackwardFunction, composed: @escaping ([Var]) -> Var
  ) -> Var {
    Var(
      op: name, args: args, forward: forward,
      vectorJacobianProduct: composedVectorJacobianProduct(composed),
      backward: backward)
  }
}

/// The differentiable rule of an op whose value is `body(args)`: rebuilds the expression on
/// the arguments and differentiates it, stopping at the arguments.
///
/// Two cases need care. An argument computed from another must not pass its gradient on
/// twice, so the sweep treats the arguments as leaves. And an argument given more than once
/// (`composite(args: [x, x])`) receives the gradient of all its uses at its first position
/// and nothing at the others, since the caller adds each position's gradient into it.
func composedVectorJacobianProduct(_ body: @escaping ([Var]) -> Var) -> VectorJacobianProduct {
  { args, _, s in
    let recording = isGradientRecordingEnabled
    let y = GradientMode.$isEnabled.withValue(true) { body(args) }
    let grads = gradients(
      of: y, withRespectTo: args, seed: s, createGraph: recording, stoppingAtInputs: true)
    var seen = Set<ObjectIdentifier>()
    return zip(args, grads).map { arg, g in seen.insert(ObjectIdentifier(arg)).inserted ? g : nil }
  }
}

extension GradientCheck {
  static let composite = GradientCheck("composite", inputs: [.init([3, 2]), .init([2])]) {
    Var.composite(name: "affineTanh", args: [$0[0], $0[1]]) { a in (a[0] * a[1]).tanh() + a[1] }
  }
  /// A composite whose second argument is computed from its first: the rule must stop at
  /// its arguments, or the path through the first would be counted twice.
  static let compositeChain = GradientCheck(
    "composite (dependent arguments)", inputs: [.init([3])]
  ) {
    let y = Var.composite(name: "sin", args: [$0[0]]) { $0[0].sin() }
    return Var.composite(name: "product", args: [$0[0], y]) { $0[0] * $0[1] }
  }
  /// A composite given the same node twice: its gradient is that of all uses, counted once.
  static let compositeRepeated = GradientCheck(
    "composite (repeated argument)", inputs: [.init([3])]
  ) { Var.composite(name: "product", args: [$0[0], $0[0]]) { $0[0] * $0[1].sin() } }
}
