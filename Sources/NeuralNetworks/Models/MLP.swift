import Autodiff

/// A multilayer perceptron: linear layers of the given sizes with an activation between
/// them, as in the course: z⁽ˡ⁺¹⁾ = h⁽ˡ⁾W⁽ˡ⁾ + b⁽ˡ⁺¹⁾, h = f(z).
///
/// The last layer has `outputActivation` (identity by default, so that it gives logits for
/// `crossEntropy(logits:labels:labelSmoothing:reduction:)`).
///
/// A 3-4-2 network has 3·4 + 4 = 16 and 4·2 + 2 = 10 parameters, 26 in all.
public final class MLP: Sequential {
  public let sizes: [Int]

  public init(
    sizes: [Int], activation: ActivationFunction = .relu,
    outputActivation: ActivationFunction = .identity,
    initialization: Initialization = .scaledNormal, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    require(sizes.count >= 2, "MLP: needs at least an input and an output size, got \(sizes)")
    self.sizes = sizes
    var layers: [Module] = []
    for i in 0..<(sizes.count - 1) {
      layers.append(
        Linear(
          inputSize: sizes[i], outputSize: sizes[i + 1], initialization: initialization,
          dtype: dtype, using: &generator))
      let f = i == sizes.count - 2 ? outputActivation : activation
      if f != .identity { layers.append(Activation(f)) }
    }
    super.init(layers)
  }

  public override var summary: String {
    "MLP(" + sizes.map(String.init).joined(separator: " → ") + ")"
  }
}
