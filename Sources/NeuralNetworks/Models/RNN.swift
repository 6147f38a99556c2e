import Autodiff

/// An Elman recurrent layer in the course's notation:
/// ```
/// sᵗ = xᵗ U + hᵗ⁻¹ W + b
/// hᵗ = f(sᵗ)
/// ```
/// with U input → hidden (``inputWeight``, `[inputSize, hiddenSize]`), W hidden → hidden
/// with one step of delay (``recurrentWeight``, `[hiddenSize, hiddenSize]`) and f the
/// activation (tanh by default; the course's σ with `activation: .sigmoid`). The course's
/// output zᵗ = hᵗ V + c is a ``Linear`` layer applied to the layer's output.
///
/// Backpropagation through time, as the course derives it, from the last step back:
/// ```
/// ∇hᵗ E = ∇zᵗ E · Vᵀ + (∇hᵗ⁺¹ E ⊙ f′(sᵗ⁺¹)) · Wᵀ
/// ```
/// then ∇U, ∇W and ∇b are sums over the steps. The repeated product with Wᵀ is what makes
/// gradients vanish or explode over many steps.
public final class RNN: RecurrentLayer {
  /// U: `[inputSize, hiddenSize]`.
  public let inputWeight: Var
  /// W: `[hiddenSize, hiddenSize]`.
  public let recurrentWeight: Var
  /// b: `[hiddenSize]`.
  public let bias: Var
  /// f, applied to sᵗ.
  public let activation: ActivationFunction

  /// A layer with weights drawn from U(−1/√h, 1/√h) and a zero bias.
  public init(
    inputSize: Int, hiddenSize: Int, activation: ActivationFunction = .tanh,
    dtype: DType = .default, using generator: inout some RandomNumberGenerator
  ) {
    let h = hiddenSize
    inputWeight = Var(
      recurrentWeights([inputSize, h], hiddenSize: h, dtype: dtype, using: &generator), name: "U")
    recurrentWeight = Var(
      recurrentWeights([h, h], hiddenSize: h, dtype: dtype, using: &generator), name: "W")
    bias = Var(Tensor.zeros([h], dtype: dtype), name: "b")
    self.activation = activation
    super.init(inputSize: inputSize, hiddenSize: hiddenSize)
  }

  /// A layer with the given parameters.
  public init(
    inputWeight: Var, recurrentWeight: Var, bias: Var, activation: ActivationFunction = .tanh
  ) {
    let h = recurrentWeight.shape.first ?? 0
    require(
      inputWeight.rank == 2 && recurrentWeight.shape == [h, h] && inputWeight.shape[1] == h
        && bias.shape == [h],
      "RNN: weights \(inputWeight.shape), \(recurrentWeight.shape) and bias \(bias.shape) do not fit [inputSize, h], [h, h], [h]"
    )
    self.inputWeight = inputWeight
    self.recurrentWeight = recurrentWeight
    self.bias = bias
    self.activation = activation
    super.init(inputSize: inputWeight.shape[0], hiddenSize: h)
  }

  public override var ownParameters: [Var] { [inputWeight, recurrentWeight, bias] }

  /// The hidden states hᵗ of every step, and the final one.
  public override func unrolled(_ input: Var, initialState: [Var]? = nil) -> (
    outputs: [Var], final: [Var]
  ) {
    let (batch, steps, input) = dimensions(of: input)
    var h = states(initialState, batch: batch, dtype: input.dtype)[0]
    let projections = Self.inputProjections(input, weight: inputWeight, bias: bias)
    var outputs: [Var] = []
    for t in 0..<steps {
      h = activation(projections.rows((t * batch)..<((t + 1) * batch)) + h.matmul(recurrentWeight))
      outputs.append(h)
    }
    return (outputs, [h])
  }

  public override var summary: String { "RNN(\(inputSize) → \(hiddenSize), \(activation.name))" }
}
