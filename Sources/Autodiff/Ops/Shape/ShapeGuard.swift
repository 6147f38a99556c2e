extension Var {
  /// This node, unchanged, in a graph whose structure was built for its current shape: when
  /// the graph is evaluated again after an input changed shape, the evaluation stops with a
  /// message naming `owner` and both shapes, instead of computing with parts built for the
  /// old shape.
  ///
  /// A recurrent layer unrolled over a number of steps and a batch size guards its input
  /// this way; most ops need no guard, since they recompute from their arguments' shapes.
  ///
  /// Backward: ∂L/∂x = s.
  public func guardingShape(for owner: String) -> Var {
    let built = shape
    return Var(
      op: "shapeGuard", args: [self],
      forward: { args, value in
        require(
          args[0].shape == built,
          "\(owner): built for an input of shape \(built), evaluated with \(args[0].shape); build the graph again for the new shape"
        )
        value = args[0].value
      },
      vectorJacobianProduct: { _, _, s in [s] },
      backward: { args, _, s in args[0].accumulateGradient(s) })
  }
}

extension GradientCheck {
  static let shapeGuard = GradientCheck("shapeGuard", inputs: [.init([2, 3])]) {
    $0[0].guardingShape(for: "a layer").squared()
  }
}
