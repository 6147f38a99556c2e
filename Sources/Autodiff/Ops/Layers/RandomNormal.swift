extension Var {
  /// Samples of the standard normal distribution N(0, 1) with the shape and dtype of
  /// `reference`, drawn afresh from `source` on every evaluation: the noise ε of a
  /// variational autoencoder's z = μ + ε·σ, new for every batch of a built graph.
  ///
  /// Backward: none. The samples do not depend on `reference`, which only gives the shape,
  /// so no gradient flows to it; gradients reach μ and σ through the product and sum.
  public static func standardNormal(like reference: Var, source: RandomSource) -> Var {
    Var(
      op: "standardNormal", args: [reference],
      forward: { args, value in
        let x = args[0].value
        value.assign(source.draw { Tensor.normal(x.shape, dtype: x.dtype, using: &$0) })
      },
      vectorJacobianProduct: { _, _, _ in [nil] })
  }
}

extension GradientCheck {
  /// The reparameterized sample z = μ + ε·exp(½ ln σ²) with replayed noise.
  static let standardNormal = GradientCheck(
    "standardNormal (reparameterized sample)", inputs: [.init([3, 2]), .init([3, 2], in: -1...1)]
  ) {
    let noise = Var.standardNormal(
      like: $0[0], source: RandomSource(seed: 4, replaysEachDraw: true))
    return $0[0] + noise * ($0[1] * 0.5).exp()
  }
}
