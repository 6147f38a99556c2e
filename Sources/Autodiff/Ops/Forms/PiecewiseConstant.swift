extension Var {
  /// A node whose value is a locally constant function of its arguments, such as the mask
  /// [x > 0], recomputed from their current values on every evaluation. No gradient flows
  /// through it: its derivative is zero wherever it is defined.
  ///
  /// The differentiable rules of piecewise ops (relu, clamp, maximum, max, dropout…)
  /// multiply by such nodes rather than by constants, so that a gradient graph built with
  /// `createGraph: true` and evaluated again after ``set(_:)`` follows the branch taken at
  /// the new point, not the one taken when it was built.
  static func piecewiseConstant(
    _ name: String, args: [Var], forward: @escaping ForwardFunction
  ) -> Var {
    Var(
      op: name, args: args, forward: forward,
      vectorJacobianProduct: { args, _, _ in args.map { _ in nil } })
  }
}
