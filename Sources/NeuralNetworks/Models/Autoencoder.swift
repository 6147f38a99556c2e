import Autodiff

/// An autoencoder: an encoder to a narrow code (the bottleneck) and a decoder back, trained
/// to reproduce its input, L(decoder(encoder(x)), x).
///
/// `sizes` lists the encoder's widths from the input to the code; the decoder mirrors them.
/// With `tiedWeights`, each decoder layer uses the transpose of its encoder layer's matrix:
/// one parameter W serves as W in the encoder and Wᵀ in the decoder, so the gradients of
/// both uses add up in W's `grad`. Decoder biases stay separate.
public final class Autoencoder: Module {
  public let encoder: Sequential
  public let decoder: Sequential
  public let tiedWeights: Bool
  private let sizes: [Int]

  public init(
    sizes: [Int], activation: ActivationFunction = .sigmoid, tiedWeights: Bool = false,
    initialization: Initialization = .scaledNormal, dtype: DType = .default,
    using generator: inout some RandomNumberGenerator
  ) {
    require(sizes.count >= 2, "Autoencoder: needs input and code sizes, got \(sizes)")
    self.sizes = sizes
    self.tiedWeights = tiedWeights
    var encoding: [Module] = []
    var linears: [Linear] = []
    for i in 0..<(sizes.count - 1) {
      let layer = Linear(
        inputSize: sizes[i], outputSize: sizes[i + 1], initialization: initialization,
        dtype: dtype, using: &generator)
      linears.append(layer)
      encoding += [layer, Activation(activation)]
    }
    var decoding: [Module] = []
    for (i, layer) in linears.enumerated().reversed() {
      let next: Module =
        tiedWeights
        ? TransposedLinear(tiedTo: layer.weight, dtype: dtype)
        : Linear(
          inputSize: sizes[i + 1], outputSize: sizes[i], initialization: initialization,
          dtype: dtype, using: &generator)
      decoding += [next, Activation(activation)]
    }
    encoder = Sequential(encoding)
    decoder = Sequential(decoding)
  }

  public override var children: [Module] { [encoder, decoder] }

  public override func callAsFunction(_ x: Var) -> Var { decoder(encoder(x)) }

  public override var summary: String {
    let widths = sizes + sizes.dropLast().reversed()
    return "Autoencoder(" + widths.map(String.init).joined(separator: " → ")
      + (tiedWeights ? ", tied weights)" : ")")
  }
}

/// y = x·Wᵀ + b with W borrowed from another layer (tied weights): W is not this layer's
/// parameter, only b is.
public final class TransposedLinear: Module {
  public let tiedWeight: Var
  public let bias: Var

  public init(tiedTo weight: Var, dtype: DType = .default) {
    tiedWeight = weight
    bias = Var(Tensor.zeros([weight.shape[0]], dtype: dtype), name: "b")
  }

  public override var ownParameters: [Var] { [bias] }

  public override func callAsFunction(_ x: Var) -> Var {
    x.matmul(tiedWeight, transposingOther: true, plus: bias)
  }

  public override var summary: String {
    "Linear(\(tiedWeight.shape[1]) → \(tiedWeight.shape[0]), tied)"
  }
}
