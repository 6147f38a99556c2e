extension Var {
  /// Inverted dropout: while `isActive()` returns true, each element is zeroed with
  /// probability `rate` and the survivors are scaled by 1/(1 − rate), so the expected value
  /// is unchanged; otherwise the identity. A new mask is drawn on every evaluation.
  ///
  /// Backward, with the saved mask m (0 or 1/(1 − rate)): ∂L/∂x = s ⊙ m — zero for dropped
  /// units, 1/(1 − rate) for kept ones.
  public func dropout(rate: Double, source: RandomSource, isActive: @escaping () -> Bool) -> Var {
    require(rate >= 0 && rate < 1, "dropout: rate \(rate) must be in [0, 1)")
    let saved = SavedTensor()
    return Var(
      op: "dropout", args: [self],
      forward: { args, value in
        let x = args[0].value
        if isActive() && rate > 0 {
          saved.tensor = source.draw { rng in
            var mask = Tensor.bernoulli(x.shape, probability: 1 - rate, dtype: x.dtype, using: &rng)
            for i in 0..<mask.count where mask[flat: i] != 0 { mask[flat: i] = 1 / (1 - rate) }
            return mask
          }
        } else {
          saved.tensor = Tensor(repeating: 1, shape: x.shape, dtype: x.dtype)
        }
        Kernels.binary(MultiplyFunction.self, x, saved.tensor, into: &value, op: "dropout")
      },
      vectorJacobianProduct: { _, output, s in
        // The mask node reads the mask the forward drew; taking the output as its argument
        // orders it after that forward when a gradient graph is evaluated again.
        [
          s
            * Var.piecewiseConstant("dropoutMask", args: [output]) { _, value in
              value.assign(saved.tensor)
            }
        ]
      },
      backward: { args, output, s in
        guard let g = args[0].gradientPointer() else { return }
        Kernels.binaryBackward(
          MultiplyFunction.self, a: args[0].value, b: saved.tensor, y: output.value, upstream: s,
          ga: g, gb: nil)
      })
  }
}

extension GradientCheck {
  static let dropout = GradientCheck("dropout", inputs: [.init([4, 5])]) {
    let source = RandomSource(seed: 3, replaysEachDraw: true)
    return $0[0].dropout(rate: 0.4, source: source) { true }
  }
}
